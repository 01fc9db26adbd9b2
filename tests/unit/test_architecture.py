"""The shape of the tree, held by reading it (STYLE.md, README "Code map"):

    app.interfaces -> app.answering -> app.library -> ingest -> store
                   \\-> app.library      app.answering -> prompts
                   \\-> app.uploads -> ingest
    app (the front door) -> app.answering, app.library, app.interfaces.langchain

store and prompts import nothing of ours; no package reaches into another's private parts or
Chroma/SQLite; no import cycles; each outside protocol (Gradio, MCP, the web server) has its own
modules, and importing the library starts none of them; only the settings module reads the
environment and only the CLI writes it; one exception tree; no print outside the CLI."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import app
import ingest
import store
from store import SourcebookError

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "ingest", "store", "prompts")
# Who may import whom, by module prefix (the longest matching prefix decides).
ALLOWED = {
    "app.interfaces": {"app", "ingest", "store", "prompts"},
    "app.answering": {"app.answering", "app.library", "app.settings", "store", "prompts"},
    "app.library": {"app.library", "app.settings", "ingest", "store"},
    "app.uploads": {"app.settings", "ingest", "store"},
    "app.settings": set(),
    "app.evaluation": {"app.answering", "app.library", "app.settings"},
    "app.watch": {"app.watch", "app.library", "app.settings", "ingest", "store"},
    # The front door, app/__init__.py: the library and its LangChain parts, never a server.
    "app": {
        "app.answering",
        "app.library",
        "app.settings",
        "app.interfaces.langchain",
        "ingest",
        "store",
    },
    "ingest": {"ingest", "store"},
    "store": {"store"},
    "prompts": {"prompts"},
}
# Modules that hold Chroma, SQLite or tantivy objects: nothing outside store/ may import them.
STORE_INTERNALS = {
    "chromadb",
    "sqlite3",
    "tantivy",
    "langchain_chroma",
    "store.textdb",
    "store.vectors",
    "store.keyword",
    "store.pgtext",
    "store.pg",
    "psycopg",
    "psycopg_pool",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {
        module_name(p): ast.parse(p.read_text())
        for pkg in PACKAGES
        for p in sorted((REPO / pkg).rglob("*.py"))
    }


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def rule_for(module: str) -> set[str]:
    prefix = max((p for p in ALLOWED if module == p or module.startswith(p + ".")), key=len)
    return ALLOWED[prefix]


def ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def test_imports_run_one_way() -> None:
    for module, tree in modules().items():
        allowed = rule_for(module)
        for name in filter(ours, imported(tree)):
            ok = any(name == a or name.startswith(a + ".") for a in allowed)
            assert ok, f"{module} imports {name}"


def test_the_library_is_used_through_its_front() -> None:
    """app.library's modules are its own business: callers import from app.library itself."""
    for module, tree in modules().items():
        if module.startswith("app.library"):
            continue
        inner = {n for n in imported(tree) if n.startswith("app.library.")}
        assert not inner, f"{module} imports {inner}"


def test_no_import_cycles() -> None:
    found = modules()
    graph = {m: {n for n in imported(t) if n in found and n != m} for m, t in found.items()}

    def visit(node: str, path: list[str]) -> None:
        for nxt in graph[node]:
            assert nxt not in path, "import cycle: " + " -> ".join([*path, nxt])
            visit(nxt, [*path, nxt])

    for start in graph:
        visit(start, [start])


def test_nothing_outside_store_touches_its_parts() -> None:
    for module, tree in modules().items():
        if module.startswith("store"):
            continue
        reached = {
            n for n in imported(tree) if n.split(".")[0] in STORE_INTERNALS or n in STORE_INTERNALS
        }
        assert not reached, f"{module} imports {reached}"
        private = [
            n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute)
            and n.attr in ("textdb", "_textdb", "_vectors", "_collection", "_model", "records")
        ]
        assert not private, f"{module} reaches into {private}"


def users_of(package: str) -> set[str]:
    return {
        m
        for m, t in modules().items()
        if any(n == package or n.startswith(package + ".") for n in imported(t))
    }


def test_each_outside_protocol_has_one_home() -> None:
    """Gradio, MCP and LangChain's runnables each meet the app in one module; the web server's
    parts (FastAPI, Starlette, uvicorn) only in the modules of `sourcebook serve`."""
    assert users_of("gradio") == {"app.interfaces.ui"}
    assert users_of("mcp") == {"app.interfaces.mcp_server"}
    assert users_of("langchain_core.retrievers") == {"app.interfaces.langchain"}
    web = users_of("fastapi") | users_of("starlette") | users_of("uvicorn")
    serving = {
        "app.interfaces.server",
        "app.interfaces.openai_api",
        "app.interfaces.gate",
        "app.interfaces.limits",
    }
    assert web <= serving | {"app.interfaces.ui"}


def test_importing_the_library_starts_no_server() -> None:
    """`import app` (the library, with its LangChain parts) pulls in no web or protocol stack."""
    import subprocess
    import sys

    code = (
        "import sys, app; print(sorted(m for m in ('gradio', 'fastapi', 'uvicorn', 'mcp', "
        "'openai') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_only_settings_reads_the_environment_and_only_the_cli_writes_it() -> None:
    readers, writers = set(), set()
    for module, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                (writers if _is_written(tree, node) else readers).add(module)
    assert readers <= {"app.settings"}
    assert writers <= {"app.interfaces.cli"}


def _is_written(tree: ast.Module, target: ast.Attribute) -> bool:
    """`os.environ.setdefault(...)` / `os.environ[...] = ...`: a process switch, set at the edge."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.value is target and node.attr == "setdefault":
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) and t.value is target for t in node.targets
        ):
            return True
    return False


def test_logging_is_configured_only_by_the_cli() -> None:
    for module, tree in modules().items():
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "basicConfig"
        ]
        assert not calls or module == "app.interfaces.cli", f"basicConfig in {module}"


def test_every_exception_of_ours_is_in_the_one_tree() -> None:
    """Every exception class a user can meet derives from SourcebookError, and the tree drawn in
    store/errors.py names it (so a new error cannot reach a user as a traceback)."""
    import prompts
    from store import errors

    drawn = errors.__doc__ or ""
    exceptions = [
        obj for package in (app, ingest, store) for obj in _exception_classes(package.__name__)
    ]
    assert exceptions
    for cls in exceptions:
        assert issubclass(cls, SourcebookError), f"{cls.__module__}.{cls.__name__}"
        assert cls.__name__ in drawn, f"{cls.__name__} is missing from store/errors.py's tree"
    assert not issubclass(prompts.PromptError, SourcebookError)  # a bug of ours, on purpose


def _exception_classes(package: str) -> list[type[BaseException]]:
    import importlib
    import pkgutil

    root = importlib.import_module(package)
    names = [package] + [
        m.name for m in pkgutil.walk_packages(root.__path__, package + ".") if "ui" not in m.name
    ]
    found: dict[str, type[BaseException]] = {}
    for name in names:
        for obj in vars(importlib.import_module(name)).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__.split(".")[0] == package
            ):
                found[f"{obj.__module__}.{obj.__name__}"] = obj
    return list(found.values())


def test_public_api_is_pinned() -> None:
    assert sorted(app.__all__) == sorted(
        [
            "Answer",
            "AnswerError",
            "Citation",
            "Hit",
            "IngestError",
            "IngestReport",
            "NoIndexError",
            "Settings",
            "SourcebookError",
            "StoreError",
            "answer",
            "as_retriever",
            "as_runnable",
            "find",
            "get_settings",
            "ingest",
            "stream_answer",
        ]
    )


def test_no_print_outside_the_cli() -> None:
    for module, tree in modules().items():
        if module in ("app.interfaces.cli", "app.interfaces.progress"):  # where output goes
            continue
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"
        ]
        assert not calls, f"print in {module}"


def test_training_and_benchmarks_sit_above_the_product() -> None:
    """train/ and bench/ may use the product; the product never imports them, and they reach
    the store only through its front, like any other caller."""
    # bench/shared_keyword.py measures PostgreSQL's own full-text search, the design the
    # product did not take (issue 21): it talks to PostgreSQL directly on purpose.
    allowed = {"shared_keyword.py": {"psycopg"}}
    for folder in ("train", "bench"):
        for path in sorted((REPO / folder).glob("*.py")):
            tree = ast.parse(path.read_text())
            for name in imported(tree):
                top = name.split(".")[0]
                ok = top == "sqlite3" or top in allowed.get(path.name, set())
                assert top not in STORE_INTERNALS or ok, f"{path.name} imports {name}"
                other = {"train", "bench"} - {folder}
                assert top not in other, f"{folder}/{path.name} imports {name}"
    for module, tree in modules().items():
        reached = {n for n in imported(tree) if n.split(".")[0] in ("train", "bench")}
        assert not reached, f"{module} imports {reached}"

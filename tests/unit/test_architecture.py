"""The import lines of STYLE.md, held by reading the tree: app -> ingest -> store, app -> store,
app -> prompts; store and prompts import nothing of ours; one module imports gradio; only the
settings module reads the environment."""

from __future__ import annotations

import ast
from pathlib import Path

import app

REPO = Path(__file__).resolve().parents[2]
ALLOWED = {
    "app": {"app", "ingest", "store", "prompts"},
    "ingest": {"ingest", "store"},
    "store": {"store"},
    "prompts": {"prompts"},
}


def modules(package: str) -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text())) for p in sorted((REPO / package).rglob("*.py"))]


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_imports_run_one_way() -> None:
    for package, allowed in ALLOWED.items():
        for path, tree in modules(package):
            ours = {n.split(".")[0] for n in imported(tree)} & set(ALLOWED)
            assert ours <= allowed, f"{path.relative_to(REPO)} imports {ours - allowed}"


def test_only_one_module_imports_gradio() -> None:
    users = [
        p.relative_to(REPO).as_posix()
        for pkg in ALLOWED
        for p, tree in modules(pkg)
        if any(n.split(".")[0] == "gradio" for n in imported(tree))
    ]
    assert users in ([], ["app/ui.py"])


def test_only_settings_reads_the_environment() -> None:
    readers = set()
    for pkg in ALLOWED:
        for path, tree in modules(pkg):
            for node in ast.walk(tree):
                reads = isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
                if reads and not _is_setdefault(tree, node):
                    readers.add(path.relative_to(REPO).as_posix())
    assert readers <= {"app/settings.py"}


def _is_setdefault(tree: ast.Module, target: ast.Attribute) -> bool:
    """`os.environ.setdefault(...)` sets library switches (offline mode); it reads nothing."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.value is target and node.attr == "setdefault":
            return True
    return False


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
            "StoreError",
            "answer",
            "find",
            "get_settings",
            "ingest",
            "stream_answer",
        ]
    )


def test_no_print_outside_the_cli() -> None:
    for pkg in ALLOWED:
        for path, tree in modules(pkg):
            if path.name.startswith("cli"):  # the command line is where output goes
                continue
            calls = [
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"
            ]
            assert not calls, f"print in {path.relative_to(REPO)}"

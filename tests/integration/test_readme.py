"""Every snippet of the README's "Use it from…" runs as it stands, from a folder whose
`.sourcebook` is an index of the bundled corpus, against `sourcebook serve` on that index (its
port put in place of 7860): the library, the CLI, LangChain, gradio_client, the openai client,
curl and an MCP client."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, quiet_env, serving

pytestmark = pytest.mark.integration

FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)


def snippets() -> list[tuple[str, str]]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Use it from…\n", 1)[1].split("\n## ", 1)[0]
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(section)]


@pytest.fixture(scope="module")
def site(corpus_settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A folder where `.sourcebook` is the corpus index, and the server over it."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / ".sourcebook").symlink_to(Path(corpus_settings.home).resolve())
    with serving(quiet_env(), folder / "serve.log", cwd=folder) as url:
        yield {"folder": folder, "port": url.rsplit(":", 1)[1]}


def test_the_section_has_a_snippet_for_each_way_in() -> None:
    text = "\n".join(code for _, code in snippets())
    for way in ("from app import", "sourcebook ask", "as_retriever", "gradio_client",
                "from openai import", "curl ", "stdio_client", '"mcpServers"'):  # fmt: skip
        assert way in text, way


@pytest.mark.parametrize(
    ("language", "code"),
    [s for s in snippets() if s[0] in ("python", "bash")],
    ids=lambda v: v if v in ("python", "bash") else v.strip().splitlines()[0][:40],
)
def test_snippet_runs(site: dict[str, Any], language: str, code: str) -> None:
    code = code.replace("127.0.0.1:7860", f"127.0.0.1:{site['port']}")
    command = (
        [sys.executable, "-c", code]
        if language == "python"
        else ["bash", "-eo", "pipefail", "-c", code]
    )
    out = subprocess.run(
        command, cwd=site["folder"], env=quiet_env(), capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert ".txt" in out.stdout, out.stdout[-2000:]  # every snippet shows where a quote is from


def test_the_mcp_configuration_is_json_that_starts_the_server() -> None:
    (config,) = [json.loads(code) for language, code in snippets() if language == "json"]
    server = config["mcpServers"]["sourcebook"]
    assert server["command"].endswith("/bin/sourcebook") and server["args"] == ["mcp"]
    assert set(server["env"]) == {"SOURCEBOOK_HOME"}

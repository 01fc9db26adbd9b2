"""Fixtures of the browser tests: `sourcebook serve` over a copy of the corpus, Debian's chromium
driven by Playwright, and a fresh page of the app."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.chat import ARGS, ARTIFACTS, CHROMIUM, HOSTILE, LAPTOP
from tests.helpers import CORPUS, free_port, wait_http
from tests.mixed import write_mixed_folder

# Documents that open where they came from: a row in its table, a slide, a scanned page.
SOURCE_VIEWS = {"reservoirs.xlsx", "harbour.pptx", "mill-scan.pdf"}


def sourcebook(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "sourcebook"), *args]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """`sourcebook serve` on a free loopback port over an ingested, writable copy of the corpus."""
    root = tmp_path_factory.mktemp("ui")
    docs = root / "docs"
    shutil.copytree(CORPUS, docs)
    (docs / "hostile.txt").write_text(HOSTILE)
    write_mixed_folder(docs, only=SOURCE_VIEWS)
    env = {
        **os.environ,
        "SOURCEBOOK_HOME": str(root / "home"),
        "SOURCEBOOK_FOLDER": str(docs),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    subprocess.run(sourcebook("ingest"), env=env, check=True, capture_output=True)
    port = free_port()
    log = (root / "serve.log").open("wb")
    proc = subprocess.Popen(
        sourcebook("-v", "serve", "--port", str(port)),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc, seconds=120)
        yield {"url": url, "docs": docs, "root": root}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    assert "Traceback" not in (root / "serve.log").read_text(), "the server logged a traceback"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `bash .ci/setup-test-deps` (apt-get install chromium)"
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(str(server["url"]))
    page.locator("#sb-question textarea").wait_for()
    yield page
    context.close()

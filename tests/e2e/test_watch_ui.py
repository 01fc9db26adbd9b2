"""`sourcebook serve --watch` in a real browser: the index panel says it is watching, a file
written into the folder shows up as the panel's last change, and the answer changes with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.chat import LAPTOP, ask, bots, shoot
from tests.helpers import CORPUS, free_port, wait_http

pytestmark = pytest.mark.e2e

TROPHY = "What is the Zanzibar regatta trophy carved from?"
WAIT_MS = 300_000  # a safety net for a loaded machine, not a timing


@pytest.fixture(scope="module")
def watching_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """`sourcebook serve --watch` over a writable copy of the corpus, nothing ingested first:
    the watcher's first reconcile builds the index."""
    root = tmp_path_factory.mktemp("watch-ui")
    docs = root / "docs"
    shutil.copytree(CORPUS, docs)
    env = {
        **os.environ,
        "SOURCEBOOK_HOME": str(root / "home"),
        "SOURCEBOOK_FOLDER": str(docs),
        "SOURCEBOOK_WATCH_SETTLE_SECONDS": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    port = free_port()
    log = (root / "serve.log").open("wb")
    sourcebook = str(Path(sys.executable).parent / "sourcebook")
    proc = subprocess.Popen(
        [sourcebook, "-v", "serve", "--watch", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc, seconds=120)
        yield {"url": url, "docs": docs}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    assert "Traceback" not in (root / "serve.log").read_text(), "the server logged a traceback"


def ask_anything(page, question: str):  # type: ignore[no-untyped-def]
    """The finished answer to `question`, a refusal with nothing close enough to show included."""
    before = bots(page).count()
    box = page.locator("#sb-question textarea")
    box.fill(question)
    box.press("Enter")
    reply = bots(page).nth(before)
    reply.locator(".sb-refusal, .sb-sources, .sb-error").first.wait_for()
    return reply.locator(".sb-answer")


def test_panel_shows_watching_and_follows_a_new_file(browser, watching_server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(str(watching_server["url"]))
    watch = page.locator("#sb-watch")
    expect(watch).to_contain_text("Watching the folder", timeout=WAIT_MS)
    # The first reconcile (the index did not exist) is the first change the panel shows.
    expect(watch).to_contain_text("5 added", timeout=WAIT_MS)
    expect(page.locator("#sb-status")).to_contain_text("Documents5", timeout=WAIT_MS)
    before = ask_anything(page, TROPHY)
    assert "sb-refusal" in before.get_attribute("class") and "teak" not in before.inner_text()

    docs = watching_server["docs"]
    assert isinstance(docs, Path)
    (docs / "regatta.txt").write_text(
        "Zanzibar kite regatta.\n\nThe Zanzibar regatta trophy is carved from teak by Said Omar.\n"
    )
    expect(watch).to_contain_text("regatta.txt added", timeout=WAIT_MS)
    expect(page.locator("#sb-status")).to_contain_text("Documents6", timeout=WAIT_MS)
    reply = ask(page, TROPHY)
    assert "teak" in reply.locator(".sb-answer").inner_text()
    assert "regatta.txt" in reply.locator("li.sb-source").first.inner_text()
    shoot(page, "watching")
    context.close()

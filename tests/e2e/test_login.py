"""The chat window behind a login, in a real browser: sent to /login, a wrong password refused,
the right one lets it chat and add documents; logging out shuts the door again."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chat import FORUM, LAPTOP, ask, shoot
from tests.helpers import CORPUS, SOURCEBOOK, quiet_env, serving

pytestmark = pytest.mark.e2e

USER, PASSWORD = "reader", "open: sesame twice"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("login")
    docs = root / "docs"
    shutil.copytree(CORPUS, docs)
    env = quiet_env(SOURCEBOOK_HOME=str(root / "home"), SOURCEBOOK_FOLDER=str(docs))
    subprocess.run([SOURCEBOOK, "ingest"], env=env, check=True, capture_output=True)
    env |= {"SOURCEBOOK_AUTH": f"{USER}:{PASSWORD}", "SOURCEBOOK_API_KEYS": "a-token"}
    with serving(env, root / "serve.log") as url:
        yield {"url": url, "docs": docs}


def log_in(page, password: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_log_in_chat_upload_log_out(browser, guarded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(guarded["url"] + "/")
    assert page.url.endswith("/login")
    log_in(page, "guess")
    page.get_by_text("Wrong user name or password.").wait_for()
    shoot(page, "login-refused")
    log_in(page, PASSWORD)
    page.locator("#sb-question textarea").wait_for()
    reply = ask(page, FORUM)
    assert reply.locator("a.sb-ref").count() >= 1
    assert reply.locator("li.sb-source").count() >= 1
    note = tmp_path / "harbour-note.txt"
    note.write_text("The harbour master of Zanzibar is Amina Juma.\n")
    page.locator("#sb-upload input[type=file]").set_input_files(str(note))
    page.locator("#sb-status").get_by_text("Ingested: 1 added").wait_for(timeout=120_000)
    assert (guarded["docs"] / "uploads" / "harbour-note.txt").exists()
    shoot(page, "logged-in")
    page.get_by_role("link", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for()
    assert page.url.endswith("/login")
    page.goto(guarded["url"] + "/")
    assert page.url.endswith("/login")
    context.close()


def test_guessing_passwords_is_stopped_with_a_wait(browser, guarded) -> None:  # type: ignore[no-untyped-def]
    """Regression: passwords could be guessed at full speed. After five failures for a name,
    the page says how long to wait, and the server answers 429 with Retry-After."""
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(guarded["url"] + "/login")
    statuses = []
    page.on("response", lambda r: statuses.append((r.status, r.headers.get("retry-after"))))
    for n in range(5):
        page.get_by_label("User name").fill("mallory")
        page.get_by_label("Password").fill(f"guess {n}")
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("Wrong user name or password.").wait_for()
    page.get_by_label("User name").fill("mallory")
    page.get_by_label("Password").fill("one more guess")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(re.compile(r"Too many failed logins\. Try again in \d+ minutes\.")).wait_for()
    shoot(page, "login-throttled")
    status, retry_after = statuses[-1]
    assert status == 429 and 0 < int(retry_after) <= 300
    context.close()

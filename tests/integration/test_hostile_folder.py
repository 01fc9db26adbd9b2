"""Uploads and the documents folder under hostile input (issue 18), through a real `sourcebook
serve` and the real CLI: an upload never replaces a file or writes through a link, one the
ingest refuses does not linger, Gradio's copy is deleted, names cannot carry control or
direction characters into a terminal or the page, and links out of the folder are named."""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import CORPUS, SOURCEBOOK, quiet_env, run_event, serving, upload

pytestmark = pytest.mark.integration

USER, PASSWORD = "reader", "open: sesame twice"
FORUM_DOC = "outcome-of-12th-rok-central-asia-cooperation-forum.txt"
HOSTILE_NAME = "evil\x1b[31m\u202etxt.exe.txt"  # shows as "evil…exe.txt" reversed, in red
UNSEEN = ("\x1b", "\u202e", "\x9b")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An ingested, writable copy of the corpus served with a login; Gradio's cache is ours to
    look into."""
    root = tmp_path_factory.mktemp("hostile-folder")
    docs = root / "docs"
    shutil.copytree(CORPUS, docs)
    env = quiet_env(SOURCEBOOK_HOME=str(root / "home"), SOURCEBOOK_FOLDER=str(docs))
    subprocess.run([SOURCEBOOK, "ingest"], env=env, check=True, capture_output=True)
    env |= {"SOURCEBOOK_AUTH": f"{USER}:{PASSWORD}", "GRADIO_TEMP_DIR": str(root / "cache")}
    with serving(env, root / "serve.log") as url:
        yield {"url": url, "docs": docs, "cache": root / "cache"}


def logged_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=300)
    assert client.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 303
    return client


def panel(site: dict[str, Any], name: str, data: bytes) -> str:
    """Upload through the window as a logged-in user; the index panel's text afterwards (its
    HTML with the entities read back)."""
    with closing(logged_in(site["url"])) as user:
        return html.unescape(str(upload(user, name, data)[0]))


def test_an_upload_never_replaces_a_file(site: dict[str, Any]) -> None:
    """Regression: a second `notes.txt` replaced the first, and ingest said "1 updated"."""
    first = panel(site, "notes.txt", b"The kite regatta of Zanzibar is held in July.\n")
    assert "1 added" in first
    second = panel(site, "notes.txt", b"The harbour master of Zanzibar is Amina Juma.\n")
    assert "1 added" in second and "0 updated" in second
    assert "notes.txt is stored as notes (2).txt" in second and "both are kept" in second
    uploads = site["docs"] / "uploads"
    assert "July" in (uploads / "notes.txt").read_text()
    assert "Amina Juma" in (uploads / "notes (2).txt").read_text()


def test_an_upload_never_writes_through_a_link(site: dict[str, Any]) -> None:
    """Regression: with uploads/x.txt a link to another document, uploading x.txt wrote into
    that document."""
    victim = site["docs"] / FORUM_DOC
    before = victim.read_bytes()
    uploads = site["docs"] / "uploads"
    uploads.mkdir(exist_ok=True)
    (uploads / "x.txt").symlink_to(victim)
    status = panel(site, "x.txt", b"Overwritten through a link.\n")
    assert victim.read_bytes() == before
    assert "x.txt is stored as x (2).txt" in status
    assert (uploads / "x (2).txt").read_bytes() == b"Overwritten through a link.\n"
    assert (uploads / "x.txt").is_symlink()


def test_a_refused_upload_is_removed_and_the_user_told(site: dict[str, Any]) -> None:
    """Regression: a broken PDF that ingest refused stayed in uploads/, reported again by every
    later re-ingest."""
    status = panel(site, "broken.pdf", b"%PDF-1.7\nnot really a PDF at all\n")
    assert "uploads/broken.pdf:" in status and "not kept (removed from the folder)" in status
    assert not (site["docs"] / "uploads" / "broken.pdf").exists()
    with closing(logged_in(site["url"])) as user:
        again = str(run_event(user, "reingest", [])[0])
    assert "broken.pdf" not in again


def test_gradio_keeps_no_copy_of_an_upload(site: dict[str, Any]) -> None:
    """Regression: uploads stayed in Gradio's cache for good (readable via /gradio_api/file=)."""
    panel(site, "cached.txt", b"A document that passes through Gradio's cache.\n")
    left = [p for p in site["cache"].rglob("*") if p.is_file()]
    assert left == [], left


def test_control_characters_in_an_upload_name_are_replaced(site: dict[str, Any]) -> None:
    status = panel(site, HOSTILE_NAME, b"The regatta's judges meet at the old fort.\n")
    stored = [p.name for p in (site["docs"] / "uploads").iterdir() if p.name.startswith("evil")]
    assert len(stored) == 1 and not any(c in stored[0] for c in UNSEEN), stored
    assert "1 added" in status and "its name held control or direction characters" in status
    assert not any(c in status for c in UNSEEN)
    assert "evil\\x1b[31m\\u202etxt.exe.txt is stored as evil_[31m_txt.exe.txt" in status


# -- the CLI: links out of the folder are named, names are shown escaped


def test_cli_names_links_out_and_shows_names_escaped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The password is hunter2.\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / FORUM_DOC, docs / FORUM_DOC)
    (docs / "leak.txt").symlink_to(outside / "secret.txt")
    (docs / "leaked-dir").symlink_to(outside, target_is_directory=True)
    (docs / HOSTILE_NAME).write_text("The kite regatta of Zanzibar is judged at the old fort.\n")
    (docs / "empty\u202e\x9b.txt").write_text("")
    env = quiet_env(SOURCEBOOK_HOME=str(tmp_path / "home"), SOURCEBOOK_FOLDER=str(docs))
    out = subprocess.run([SOURCEBOOK, "ingest"], env=env, capture_output=True, text=True)
    lines = out.stderr.splitlines()
    for link in ("leak.txt", "leaked-dir"):
        said = [line for line in lines if f"skipped {link}:" in line]
        assert len(said) == 1 and "outside the documents folder" in said[0], out.stderr
    assert any("skipped empty\\u202e\\x9b.txt: " in line for line in lines), out.stderr
    found = subprocess.run(
        [SOURCEBOOK, "search", "Who judges the kite regatta?", "-k", "2"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "evil\\x1b[31m\\u202etxt.exe.txt" in found.stdout
    for text in (out.stdout, out.stderr, found.stdout):
        assert not any(c in text for c in UNSEEN), text

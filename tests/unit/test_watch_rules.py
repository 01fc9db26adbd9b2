"""The watcher's rules, on a real folder without the model: which changed paths can matter to the
index, how a change is summarized, and how the panel shows the watcher."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from app.interfaces.render import escape, watch_html
from app.watch import Applied, WatchStatus
from app.watch.events import relevant
from app.watch.status import summarize
from ingest import Changed, IngestReport, Skipped


def test_paths_that_can_matter_follow_the_ingests_rules(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in ("a.md", "sub/b.txt", "notes.bak", ".draft.md", ".hidden/c.md", "~$report.docx"):
        (folder / name).write_text("x")
    (outside / "d.md").write_text("x")
    os.mkfifo(folder / "pipe.txt")
    (folder / "linked").symlink_to(outside)
    (folder / "link.md").symlink_to(folder / "a.md")

    def matters(name: str, added: bool = False) -> bool:
        return relevant(folder, folder / name, added)

    assert matters("a.md") and matters("sub/b.txt")
    assert matters("gone.md") and matters("gone-folder")  # removed: a document or a folder
    assert matters("sub", added=True) and not matters("sub")  # a folder made, not touched
    assert matters("link.md")  # the whole folder is reconciled for links (list_files decides)
    for name in ("notes.bak", ".draft.md", ".hidden/c.md", "~$report.docx", "pipe.txt"):
        assert not matters(name), name
    assert not relevant(folder, folder / "linked" / "d.md", True)  # the ingest does not follow
    assert not relevant(folder, outside / "d.md", True)
    assert not relevant(folder, folder, False)


def report(*changed: Changed, skipped: list[Skipped] | None = None) -> IngestReport:
    return IngestReport(folder="/docs", changed=list(changed), skipped=skipped or [])


def test_summaries_name_what_changed() -> None:
    assert summarize(report(Changed("updated", "notes.md"))) == "notes.md updated"
    assert summarize(report(Changed("renamed", "sub/a.md", "a.md"))) == "a.md renamed to sub/a.md"
    many = [Changed("added", f"f{i}.txt") for i in range(4)] + [Changed("removed", "old.txt")]
    assert summarize(report(*many)) == "4 added, 1 removed: f0.txt, f1.txt, f2.txt, …"
    broken = report(skipped=[Skipped("bad.pdf", "not a PDF")])
    assert summarize(broken) == "skipped bad.pdf"
    assert summarize(report()) == "nothing changed"


def test_panel_shows_watching_and_the_last_change() -> None:
    at = datetime(2026, 11, 24, 14, 3, 12)
    change = Applied(at, "notes.md updated <b>", report(Changed("updated", "notes.md")), False)
    status = WatchStatus("/docs", "watching", at, 0, 3, [change], None)
    html = watch_html(status)
    assert "Watching the folder" in html and "14:03:12" in html
    assert "notes.md updated &#60;b&#62;" in html  # file names are text, never markup
    busy = WatchStatus("/docs", "settling", at, 2, 3, [], "the Chroma server is unreachable")
    html = watch_html(busy)
    assert escape("settling (2 changed paths)") in html and "No change since" in html
    assert "the Chroma server is unreachable" in html

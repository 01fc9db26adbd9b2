"""Ingest keeps the index in step with its folder: real model, real Chroma on disk and as a server."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.library import forget_open_indexes, get_index, ingest
from ingest import IngestError, LoadError, page_image_bounded
from store import IndexMismatchError
from tests.documents import HTML_PAGE, endless_page_pdf, make_pdf
from tests.helpers import blocking_file, chunk_ids, many_files

pytestmark = pytest.mark.integration


def test_first_ingest_then_unchanged(store_mode: str, make_settings, docs_folder: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(folder=docs_folder)
    first = ingest(settings=settings)
    assert (first.added, first.updated, first.removed) == (5, 0, 0)
    assert first.chunks_added > 5 and first.texts_embedded == first.chunks_added
    again = ingest(settings=settings)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 5, 0)
    assert again.texts_embedded == 0 and again.chunks_added == 0  # no embedding call at all
    assert len(chunk_ids(settings)) == first.chunks_added


def test_edit_delete_rename_leave_nothing_stale(
    store_mode: str, make_settings, docs_folder: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(folder=docs_folder)
    ingest(settings=settings)
    edited = docs_folder / "kiep-25-years-of-korea-central-asia-relations.txt"
    edited.write_text(edited.read_text() + "\n\nThe zebra-striped kettle sings at noon.\n")
    (docs_folder / "korea-policy-towards-kazakhstan-and-uzbekistan.txt").unlink()
    old = docs_folder / "first-korea-central-asia-high-level-officials-meeting.txt"
    old.rename(docs_folder / "officials-meeting.txt")

    report = ingest(settings=settings)
    assert (report.updated, report.removed, report.renamed, report.added) == (1, 1, 1, 0)
    # Only the edited text is new: the rename and shifted chunks come from the vector cache.
    assert 1 <= report.texts_embedded <= 2

    index = get_index(settings)
    assert index.sources() == sorted(
        [
            "14th-central-asia-rok-cooperation-forum-dushanbe.txt",
            "kiep-25-years-of-korea-central-asia-relations.txt",
            "officials-meeting.txt",
            "outcome-of-12th-rok-central-asia-cooperation-forum.txt",
        ]
    )
    ids_after = chunk_ids(settings)
    # The same folder ingested from scratch gives exactly the same chunks.
    clean = make_settings(folder=docs_folder, home=settings.home.parent / "clean")
    ingest(settings=clean)
    assert chunk_ids(clean) == ids_after
    hits = index.keyword_search("zebra kettle", 3)
    assert hits and index.chunks([hits[0][0]])[hits[0][0]][1]["source"] == edited.name


def test_partial_ingest_of_named_files(make_settings, docs_folder: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(folder=docs_folder)
    ingest(settings=settings)
    new = docs_folder / "notes.md"
    new.write_text("# Notes\n\nThe secretariat moved to a new office in 2021.\n")
    gone = docs_folder / "korea-policy-towards-kazakhstan-and-uzbekistan.txt"
    gone.unlink()
    report = ingest([new, gone], settings=settings)
    assert (report.added, report.removed) == (1, 1)
    assert "notes.md" in get_index(settings).sources()
    assert gone.name not in get_index(settings).sources()
    assert [(c.what, c.source) for c in report.changed] == [
        ("added", "notes.md"),
        ("removed", gone.name),
    ]


def test_partial_ingest_of_a_folder_that_is_gone(make_settings, docs_folder: Path) -> None:  # type: ignore[no-untyped-def]
    """A folder moved out or deleted, named as the path that changed: its documents go too
    (not just a source of that name, which there never was)."""
    sub = docs_folder / "sub"
    sub.mkdir()
    for name in ("a.txt", "b.txt"):
        (sub / name).write_text(f"Note {name}: the ferry to Pemba leaves at dawn.\n")
    settings = make_settings(folder=docs_folder)
    ingest(settings=settings)
    old = docs_folder / "first-korea-central-asia-high-level-officials-meeting.txt"
    old.rename(docs_folder / "officials.txt")
    shutil.move(sub, docs_folder.parent / "moved-out")
    report = ingest([sub, old, docs_folder / "officials.txt"], settings=settings)
    assert (report.removed, report.renamed) == (2, 1)
    assert sorted((c.what, c.source, c.previous) for c in report.changed) == [
        ("removed", "sub/a.txt", None),
        ("removed", "sub/b.txt", None),
        ("renamed", "officials.txt", old.name),
    ]
    clean = make_settings(folder=docs_folder, home=settings.home.parent / "clean")
    ingest(settings=clean)
    assert chunk_ids(settings) == chunk_ids(clean)


def test_bad_files_are_skipped_and_never_cost_what_was_stored(
    make_settings, docs_folder: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(folder=docs_folder)
    ingest(settings=settings)
    good = docs_folder / "outcome-of-12th-rok-central-asia-cooperation-forum.txt"
    before = get_index(settings).stored_chunks(good.name)
    good.write_bytes(b"\x00\x01 now binary")  # a file that was fine turns bad
    (docs_folder / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    (docs_folder / "empty.txt").write_text("")
    report = ingest(settings=settings)
    assert sorted(s.source for s in report.skipped) == ["broken.pdf", "empty.txt", good.name]
    assert get_index(settings).stored_chunks(good.name) == before


def test_missing_and_empty_folders_are_one_clear_error(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IngestError, match="does not exist"):
        ingest(settings=make_settings(folder=tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="no documents"):
        ingest(settings=make_settings(folder=tmp_path / "empty"))


def test_other_settings_need_rebuild(make_settings, docs_folder: Path) -> None:  # type: ignore[no-untyped-def]
    ingest(settings=make_settings(folder=docs_folder))
    forget_open_indexes()
    other = make_settings(folder=docs_folder, chunk_tokens=120)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        ingest(settings=other)
    report = ingest(settings=other, rebuild=True)
    assert report.added == 5
    assert get_index(other).meta()["chunk_tokens"] == "120"


def test_sigkill_mid_ingest_then_rerun_equals_clean_ingest(
    store_mode: str, make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "many"
    folder.mkdir()
    many_files(folder, 40)
    settings = make_settings(folder=folder)
    env = {**os.environ, "SOURCEBOOK_HOME": str(settings.home), "SOURCEBOOK_FOLDER": str(folder)}
    if settings.chroma_url:
        env["SOURCEBOOK_CHROMA_URL"] = settings.chroma_url
    # The last "document" is a pipe: the ingest writes its first batches, then waits on it.
    with blocking_file(folder, "zz-pipe.txt"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.interfaces.cli", "ingest"],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        db = settings.home / "sourcebook.sqlite"
        deadline = time.monotonic() + 600  # a safety net for a broken ingest, not a timing
        while proc.poll() is None and chunks_in(db) < 20:
            assert time.monotonic() < deadline, "the ingest wrote nothing"
            time.sleep(0.05)
        assert proc.poll() is None, "ingest finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    ingest(settings=settings)
    clean = make_settings(folder=folder, home=tmp_path / "clean")
    ingest(settings=clean)
    assert chunk_ids(settings) == chunk_ids(clean)
    shutil.rmtree(folder)


def chunks_in(db: Path) -> int:
    try:
        with sqlite3.connect(db) as c:
            return int(c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_a_page_picture_past_its_bound_leaves_a_running_ingest_alone(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Issue 19: a page picture for the viewer that timed out stopped the one shared worker, and
    # the ingest's parse under way died with it, reported as a malformed file. Here pictures of
    # a page that takes an hour to draw time out, one after another, for the whole ingest.
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(8):  # HTML and PDF are parsed in a worker, as every format but plain text
        (folder / f"page-{i}.html").write_text(HTML_PAGE.replace("Rogun", f"Rogun-{i}"))
        (folder / f"report-{i}.pdf").write_bytes(make_pdf([f"Report {i} on the Vakhsh river."]))
    endless, stop, timeouts = endless_page_pdf(), threading.Event(), []

    def draw_pictures() -> None:
        while not stop.is_set():
            try:
                page_image_bounded(Path("endless.pdf"), endless, 1, seconds=1)
            except LoadError as e:
                timeouts.append(str(e))

    pictures = threading.Thread(target=draw_pictures)
    pictures.start()
    try:
        report = ingest(settings=make_settings(folder=folder))
    finally:
        stop.set()
        pictures.join()
    assert report.skipped == [] and report.added == 16
    assert timeouts and all("took longer than 1 s" in t for t in timeouts)

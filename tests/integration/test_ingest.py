"""Ingest keeps the index in step with its folder: real model, real Chroma on disk and as a server."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.library import forget_open_indexes, get_index, ingest
from ingest import IngestError
from store import IndexMismatchError

pytestmark = pytest.mark.integration


def chunk_ids(settings) -> set[str]:  # type: ignore[no-untyped-def]
    """Chunk ids as Chroma holds them, checked against the SQLite side."""
    index = get_index(settings)
    in_chroma = index.store.chroma.get(include=[])["ids"]
    assert len(in_chroma) == len(set(in_chroma)), "duplicate chunk ids in Chroma"
    rows = index.textdb.get_chunks(list(in_chroma))
    assert set(rows) == set(in_chroma), "Chroma and the keyword index disagree"
    assert index.textdb.counts()[1] == len(in_chroma)
    return set(in_chroma)


def test_first_ingest_then_unchanged(store_mode: str, make_settings, docs_folder: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(sources=docs_folder)
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
    settings = make_settings(sources=docs_folder)
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
    assert index.textdb.sources() == sorted(
        [
            "14th-central-asia-rok-cooperation-forum-dushanbe.txt",
            "kiep-25-years-of-korea-central-asia-relations.txt",
            "officials-meeting.txt",
            "outcome-of-12th-rok-central-asia-cooperation-forum.txt",
        ]
    )
    ids_after = chunk_ids(settings)
    # The same folder ingested from scratch gives exactly the same chunks.
    clean = make_settings(sources=docs_folder, home=settings.home.parent / "clean")
    ingest(settings=clean)
    assert chunk_ids(clean) == ids_after
    hits = index.textdb.keyword_search("zebra kettle", 3)
    assert hits and index.textdb.get_chunks([hits[0][0]])[hits[0][0]][1]["source"] == edited.name


def test_partial_ingest_of_named_files(make_settings, docs_folder: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(sources=docs_folder)
    ingest(settings=settings)
    new = docs_folder / "notes.md"
    new.write_text("# Notes\n\nThe secretariat moved to a new office in 2021.\n")
    gone = docs_folder / "korea-policy-towards-kazakhstan-and-uzbekistan.txt"
    gone.unlink()
    report = ingest([new, gone], settings=settings)
    assert (report.added, report.removed) == (1, 1)
    assert "notes.md" in get_index(settings).textdb.sources()
    assert gone.name not in get_index(settings).textdb.sources()


def test_bad_files_are_skipped_and_never_cost_what_was_stored(
    make_settings, docs_folder: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(sources=docs_folder)
    ingest(settings=settings)
    good = docs_folder / "outcome-of-12th-rok-central-asia-cooperation-forum.txt"
    before = get_index(settings).textdb.stored_chunks(good.name)
    good.write_bytes(b"\x00\x01 now binary")  # a file that was fine turns bad
    (docs_folder / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    (docs_folder / "empty.txt").write_text("")
    report = ingest(settings=settings)
    assert sorted(s.source for s in report.skipped) == ["broken.pdf", "empty.txt", good.name]
    assert get_index(settings).textdb.stored_chunks(good.name) == before


def test_missing_and_empty_folders_are_one_clear_error(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IngestError, match="does not exist"):
        ingest(settings=make_settings(sources=tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="no documents"):
        ingest(settings=make_settings(sources=tmp_path / "empty"))


def test_other_settings_need_rebuild(make_settings, docs_folder: Path) -> None:  # type: ignore[no-untyped-def]
    ingest(settings=make_settings(sources=docs_folder))
    forget_open_indexes()
    other = make_settings(sources=docs_folder, chunk_tokens=120)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        ingest(settings=other)
    report = ingest(settings=other, rebuild=True)
    assert report.added == 5
    assert get_index(other).textdb.get_meta()["chunk_tokens"] == "120"


def _many_files(folder: Path, count: int) -> None:
    sentences = " ".join(p.read_text() for p in sorted(Path("corpus").glob("*.txt"))).split(". ")
    for i in range(count):
        body = ". ".join(sentences[(i * 7 + j) % len(sentences)] for j in range(40))
        (folder / f"doc-{i:03d}.txt").write_text(f"Document {i}.\n\n{body}.\n")


def test_sigkill_mid_ingest_then_rerun_equals_clean_ingest(
    store_mode: str, make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "many"
    folder.mkdir()
    _many_files(folder, 40)
    settings = make_settings(sources=folder)
    env = {**os.environ, "SOURCEBOOK_HOME": str(settings.home), "SOURCEBOOK_SOURCES": str(folder)}
    if settings.chroma_url:
        env["SOURCEBOOK_CHROMA_URL"] = settings.chroma_url
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest"], env=env, stderr=subprocess.DEVNULL
    )
    db = settings.home / "sourcebook.sqlite"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db) as c:
                if c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] >= 20:
                    break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    ingest(settings=settings)
    clean = make_settings(sources=folder, home=tmp_path / "clean")
    ingest(settings=clean)
    assert chunk_ids(settings) == chunk_ids(clean)
    shutil.rmtree(folder)

"""The keyword index (tantivy, beside the SQLite file) holds exactly the chunks of the chunk
table: after edits, deletes and renames, after a process killed between the two writes, after
its folder is lost or left stale, and for an index made before it existed. Real processes, real
files, Chroma on disk and as a server."""

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
from tests.helpers import blocking_file, chunk_ids, many_files

pytestmark = pytest.mark.integration

KEYWORD_FOLDER = "keyword-v1"


def table_ids(home: Path) -> set[str]:
    with sqlite3.connect(home / "sourcebook.sqlite") as c:
        return {r[0] for r in c.execute("SELECT chunk_id FROM chunks")}


def chunks_in(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=0.2) as c:
            return int(c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    except sqlite3.Error:
        return 0


def keyword_ids(settings) -> list[str]:  # type: ignore[no-untyped-def]
    """The keyword index's ids as a process opening the index now finds them."""
    forget_open_indexes()
    return get_index(settings).keyword_ids()


def assert_exact(settings) -> None:  # type: ignore[no-untyped-def]
    found = keyword_ids(settings)
    assert len(found) == len(set(found)), "duplicate chunk ids in the keyword index"
    assert set(found) == table_ids(settings.home)


def test_edits_deletes_renames_reach_the_keyword_index(
    store_mode: str, make_settings, docs_folder: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(folder=docs_folder)
    ingest(settings=settings)
    removed = docs_folder / "korea-policy-towards-kazakhstan-and-uzbekistan.txt"
    index = get_index(settings)
    assert any(
        index.chunks([cid])[cid][1]["source"] == removed.name
        for cid, _ in index.keyword_search("Uzbekistan Kazakhstan policy", 20)
    )
    removed.unlink()
    edited = docs_folder / "kiep-25-years-of-korea-central-asia-relations.txt"
    edited.write_text(edited.read_text() + "\n\nThe quokka juggles marmalade at dawn.\n")
    old = docs_folder / "first-korea-central-asia-high-level-officials-meeting.txt"
    old.rename(docs_folder / "officials-meeting.txt")
    ingest(settings=settings)

    chunk_ids(settings)  # Chroma, the chunk table and the keyword index: the same ids
    index = get_index(settings)
    sources = {
        index.chunks([cid])[cid][1]["source"]
        for cid, _ in index.keyword_search("Uzbekistan Kazakhstan policy", 50)
    }
    assert removed.name not in sources and old.name not in sources
    hits = index.keyword_search("quokka marmalade", 3)
    assert [index.chunks([cid])[cid][1]["source"] for cid, _ in hits] == [edited.name]
    within = index.keyword_search("quokka Uzbekistan Korea", 10, sources=[edited.name, old.name])
    assert within and all(
        index.chunks([cid])[cid][1]["source"] == edited.name for cid, _ in within
    )  # the renamed file's old name holds nothing any more
    total, frequencies = index.term_statistics(["quokka", "juggl", "zzzyzx"])
    assert total == len(table_ids(settings.home))
    assert frequencies == {"quokka": 1, "juggl": 1, "zzzyzx": 0}


def test_changes_a_killed_process_left_unapplied_are_replayed_on_open(
    make_settings, docs_folder: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(folder=docs_folder)
    ingest(settings=settings)
    forget_open_indexes()
    # What a process killed after its SQLite transaction and before the keyword index's commit
    # leaves: chunk rows changed, and their ids in the table's log (written by its triggers).
    with sqlite3.connect(settings.home / "sourcebook.sqlite") as c:
        gone, copied = [r[0] for r in c.execute("SELECT chunk_id FROM chunks LIMIT 2")]
        c.execute("DELETE FROM chunks WHERE chunk_id = ?", (gone,))
        c.execute(
            "INSERT INTO chunks (chunk_id, source, doc_hash, text, metadata) SELECT 'new-id', "
            "source, doc_hash, text || ' pangolin', metadata FROM chunks WHERE chunk_id = ?",
            (copied,),
        )
        assert c.execute("SELECT COUNT(*) FROM keyword_log").fetchone()[0] == 2
    assert_exact(settings)
    index = get_index(settings)
    assert gone not in index.keyword_ids()
    assert [cid for cid, _ in index.keyword_search("pangolin", 3)] == ["new-id"]
    with sqlite3.connect(settings.home / "sourcebook.sqlite") as c:
        assert c.execute("SELECT COUNT(*) FROM keyword_log").fetchone()[0] == 0


def test_lost_or_stale_keyword_folder_is_rebuilt_from_the_chunk_table(
    make_settings, docs_folder: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(folder=docs_folder)
    ingest(settings=settings)
    forget_open_indexes()
    folder = settings.home / KEYWORD_FOLDER
    shutil.rmtree(folder)
    assert_exact(settings)

    forget_open_indexes()  # a keyword folder from when the index held fewer chunks
    stale = tmp_path / "stale"
    shutil.copytree(folder, stale)
    (docs_folder / "more.md").write_text("# More\n\nThe okapi hums a tune.\n")
    ingest(settings=settings)
    forget_open_indexes()
    shutil.rmtree(folder)
    shutil.copytree(stale, folder)
    assert_exact(settings)
    assert get_index(settings).keyword_search("okapi", 3)


def test_an_index_made_before_the_keyword_folder_gets_one(make_settings, docs_folder: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(folder=docs_folder)
    ingest(settings=settings)
    forget_open_indexes()
    shutil.rmtree(settings.home / KEYWORD_FOLDER)
    with sqlite3.connect(settings.home / "sourcebook.sqlite") as c:  # as FTS5 left it
        c.executescript(
            """
            DROP TRIGGER chunks_log_insert;
            DROP TRIGGER chunks_log_delete;
            DROP TABLE keyword_log;
            DROP TABLE chunk_total;
            CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks',
                content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2');
            CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
                INSERT INTO chunks_fts(rowid, text) VALUES (new.rowid, new.text); END;
            INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild');
            """
        )
    assert_exact(settings)
    with sqlite3.connect(settings.home / "sourcebook.sqlite") as c:
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
    assert "chunks_fts" not in names and "chunks_ai" not in names
    assert get_index(settings).term_statistics([])[0] == len(table_ids(settings.home))
    again = ingest(settings=settings)
    assert (again.chunks_added, again.chunks_deleted) == (0, 0)
    chunk_ids(settings)


def test_killed_mid_ingest_the_next_open_agrees_and_a_rerun_is_exact(
    store_mode: str, make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "many"
    folder.mkdir()
    many_files(folder, 30)
    settings = make_settings(folder=folder)
    env = {**os.environ, "SOURCEBOOK_HOME": str(settings.home), "SOURCEBOOK_FOLDER": str(folder)}
    if settings.chroma_url:
        env["SOURCEBOOK_CHROMA_URL"] = settings.chroma_url
    db = settings.home / "sourcebook.sqlite"
    # The last "document" is a pipe: the ingest writes the others, then waits on it, and is
    # killed there (never racing it).
    with blocking_file(folder, "zz-pipe.txt"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.interfaces.cli", "ingest"],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 600  # a safety net for a broken ingest, not a timing
        while proc.poll() is None and not chunks_in(db):
            assert time.monotonic() < deadline, "the ingest wrote nothing"
            time.sleep(0.05)
        assert proc.poll() is None, "ingest finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    assert_exact(settings)  # before any re-run: opening the index converges it
    forget_open_indexes()
    ingest(settings=settings)
    clean = make_settings(folder=folder, home=tmp_path / "clean")
    ingest(settings=clean)
    assert chunk_ids(settings) == chunk_ids(clean)
    assert_exact(settings)

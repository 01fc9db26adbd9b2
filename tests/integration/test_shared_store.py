"""One index in PostgreSQL and a Chroma server, used from several homes (as several machines
would: each home its own keyword index): a change written from one is searchable from another,
every home follows the folder recorded in the database, one writer at a time (a second is told
who holds the lock), a writer killed mid-ingest leaves no half-written document and the next
writer, elsewhere, converges, and `sourcebook migrate` moves a SQLite index over unchanged. Real
PostgreSQL, real Chroma server, real processes."""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from app.answering.pipeline import answer
from app.library import find, followed_folder, forget_open_indexes, get_index, index_status, ingest
from app.settings import Settings
from ingest import IngestError
from ingest.pipeline import INDEX_BATCH
from ingest.stream import EMBED_BATCH
from tests.helpers import (
    CORPUS,
    SOURCEBOOK,
    blocking_file,
    chunk_ids,
    many_files,
    quiet_env,
    written_before,
)

pytestmark = pytest.mark.integration

QUESTIONS = [
    "Which prime minister visited Tajikistan and Kyrgyzstan?",
    "When were diplomatic relations between Korea and Central Asia established?",
    "When did the first Korea-Central Asia high-level officials meeting take place?",
]
Make = Callable[..., Settings]


@pytest.fixture
def shared(tmp_path: Path, database_url: str, chroma_url: str) -> Iterator[Make]:
    """Settings for a home of its own ("a machine") over one shared database and Chroma."""

    def make(home: str, folder: Path = CORPUS) -> Settings:
        return Settings(
            home=tmp_path / home, folder=folder, database_url=database_url, chroma_url=chroma_url
        )  # type: ignore[call-arg]

    yield make
    forget_open_indexes()  # their connections, before the database is dropped


def env_for(settings: Settings) -> dict[str, str]:
    return quiet_env(
        SOURCEBOOK_HOME=str(settings.home),
        SOURCEBOOK_FOLDER=str(settings.folder),
        SOURCEBOOK_DATABASE_URL=str(settings.database_url),
        SOURCEBOOK_CHROMA_URL=str(settings.chroma_url),
    )


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SOURCEBOOK, *args], env=env_for(settings), capture_output=True, text=True, timeout=300
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("sourcebook: ")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


def until(check: Callable[[], bool], seconds: float = 60) -> None:
    """Wait for `check` (a readiness poll with a safety net, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the other home never saw the change"
        time.sleep(0.1)


def test_a_change_written_from_one_home_is_searchable_from_another(
    shared: Make, docs_folder: Path
) -> None:
    a, b = shared("a", docs_folder), shared("b", docs_folder)
    ingest(settings=a)
    assert chunk_ids(b) == chunk_ids(a)  # b's keyword index built from the shared table
    assert [h.chunk_id for h in find("water resources", settings=b)] == [
        h.chunk_id for h in find("water resources", settings=a)
    ]
    (docs_folder / "quokka.md").write_text("# Quokka\n\nThe quokka juggles marmalade at dawn.\n")
    ingest(settings=a)  # b's index stays open: its keyword index follows the log by itself
    until(lambda: [h.source for h in find("quokka marmalade", k=1, settings=b)] == ["quokka.md"])
    (docs_folder / "quokka.md").unlink()
    ingest(settings=a)
    # Search never shows a deleted chunk (hits are read from the table); b's keyword index
    # drops it as it follows the log.
    assert "quokka.md" not in {h.source for h in find("quokka marmalade", settings=b)}
    until(lambda: set(get_index(b).keyword_ids()) == set(get_index(a).keyword_ids()))
    assert chunk_ids(b) == chunk_ids(a)


def test_every_home_follows_the_folder_the_shared_index_was_built_from(
    shared: Make, docs_folder: Path, tmp_path: Path
) -> None:
    """One index, one folder (issue 19) over a database (issue 21): the folder is recorded in
    the database, so a home whose SOURCEBOOK_FOLDER names another folder still follows it."""
    ingest(settings=shared("a", docs_folder))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    b = shared("b", elsewhere)
    assert followed_folder(b) == docs_folder.resolve()
    assert index_status(b)["folder"] == str(docs_folder.resolve())
    report = ingest(settings=b)  # the followed folder, unchanged: nothing to do
    assert report.folder == str(docs_folder.resolve())
    assert (report.added, report.chunks_added, report.chunks_deleted) == (0, 0, 0)
    with pytest.raises(IngestError, match="--rebuild"):
        ingest([elsewhere], settings=b)


KILL_FILES = 40


def chunks_in(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    except psycopg.Error:
        return 0  # not created yet


def lock_holders(url: str) -> str:
    """Who holds advisory locks on the database (their connections' application names)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted"
        ).fetchall()
    return " | ".join(r[0] for r in rows)


def table_by_source(url: str) -> dict[str, set[str]]:
    """What every server shows: the chunk table, by source."""
    out: dict[str, set[str]] = {}
    with psycopg.connect(url) as conn:
        for cid, source in conn.execute("SELECT chunk_id, source FROM chunks"):
            out.setdefault(source, set()).add(cid)
    return out


def ids_by_source(settings: Settings) -> dict[str, set[str]]:
    """Chunk ids by source, once Chroma, the chunk table and the keyword index agree."""
    index = get_index(settings)
    out: dict[str, set[str]] = {}
    for cid, (_, meta) in index.chunks(sorted(chunk_ids(settings))).items():
        out.setdefault(meta["source"], set()).add(cid)
    return out


@pytest.mark.parametrize("seed", [5, 17])
def test_a_writer_killed_mid_ingest_leaves_whole_documents_and_another_converges(
    seed: int, shared: Make, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    many_files(folder, KILL_FILES)
    clean = Settings(home=tmp_path / "clean", folder=folder)  # type: ignore[call-arg]
    ingest(settings=clean)  # SQLite, Chroma on disk: chunk ids are the same in every store
    clean_ids = ids_by_source(clean)
    sizes = [len(clean_ids[f"doc-{i:03d}.txt"]) for i in range(KILL_FILES)]
    upto = [sum(sizes[: i + 1]) for i in range(KILL_FILES)]
    a, b = shared("a", folder), shared("b", folder)
    rng = random.Random(seed)
    after = rng.randrange(KILL_FILES)
    threshold = rng.randint(0, written_before(upto, after, math.lcm(EMBED_BATCH, INDEX_BATCH)))
    with blocking_file(folder, f"doc-{after:03d}z-pipe.txt"):
        writer = subprocess.Popen([SOURCEBOOK, "ingest"], env=env_for(a), stderr=subprocess.DEVNULL)
        until(lambda: f"pid {writer.pid} " in lock_holders(str(a.database_url)), 600)
        deadline = time.monotonic() + 600  # a safety net for a broken ingest, not a timing
        while writer.poll() is None and chunks_in(str(a.database_url)) < threshold:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        second = run_cli(b, "ingest")  # another machine, while the first holds the lock
        assert writer.poll() is None, "the ingest ended though a file blocks it"
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    line = one_error_line(second)
    assert f"another ingest (pid {writer.pid} on {os.uname().nodename}" in line, line

    seen = table_by_source(str(b.database_url))  # whole documents, or none of one
    for source, ids in seen.items():
        assert ids == clean_ids[source], f"{source}: half a document is visible"
    report = ingest(settings=b)
    assert ids_by_source(b) == clean_ids
    assert ids_by_source(a) == clean_ids  # and from the killed writer's home, keyword index too
    assert report.chunks_added < sum(sizes) or report.texts_embedded < sum(sizes)
    again = ingest(settings=a)
    assert (again.chunks_added, again.chunks_deleted, again.texts_embedded) == (0, 0, 0)


def test_migrate_moves_a_sqlite_index_and_the_answers_stay(shared: Make, tmp_path: Path) -> None:
    local = Settings(home=tmp_path / "local", folder=CORPUS)  # type: ignore[call-arg]
    ingest(settings=local)
    before = {q: answer(q, settings=local) for q in QUESTIONS}
    target = shared("server-home")
    done = run_cli(target, "migrate", "--from", str(local.home))
    assert done.returncode == 0, done.stderr
    assert "28 chunks" in done.stdout and "28 vectors copied" in done.stdout

    assert chunk_ids(target) == chunk_ids(local)
    for question, was in before.items():
        now = answer(question, settings=target)
        assert (now.text, now.citations) == (was.text, was.citations), question
    again = ingest(settings=target)  # the records came along: nothing to redo
    assert (again.chunks_added, again.chunks_deleted, again.texts_embedded) == (0, 0, 0)
    line = one_error_line(run_cli(target, "migrate", "--from", str(local.home)))
    assert "already holds an index" in line

"""Faults a user would meet: the Chroma server going away and coming back, two ingests at once,
an ingest killed at random points, a read-only index home. Real processes, real mounts."""

from __future__ import annotations

import math
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.answering.pipeline import answer
from app.interfaces.errors import user_message
from app.library import ingest
from app.settings import Settings
from ingest.pipeline import INDEX_BATCH
from ingest.stream import EMBED_BATCH
from store import IndexBusyError, StoreError, StoreUnavailableError
from tests.helpers import (
    CORPUS,
    SOURCEBOOK,
    blocking_file,
    chunk_ids,
    free_port,
    many_files,
    start_chroma,
    wait_http,
    written_before,
)

pytestmark = pytest.mark.integration

FORUM = "In which city did the 14th forum take place?"


def env_for(settings: Settings) -> dict[str, str]:
    """The environment that makes a `sourcebook` process use `settings`' index."""
    env = {**os.environ, "SOURCEBOOK_HOME": str(settings.home)}
    env["SOURCEBOOK_FOLDER"] = str(settings.folder)
    env.pop("SOURCEBOOK_CHROMA_URL", None)
    if settings.chroma_url:
        env["SOURCEBOOK_CHROMA_URL"] = settings.chroma_url
    return env


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SOURCEBOOK, *args], env=env_for(settings), capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], words: str) -> None:
    """Exit 1, and the problem is one `sourcebook: error:` line, the last: no traceback.
    (Other lines may precede it: progress, and the encoder's own load warnings.)"""
    assert result.returncode == 1, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("sourcebook: ")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    assert words in errors[0] and "Traceback" not in result.stderr


# -- the Chroma server stops mid-session and comes back


@pytest.fixture
def own_chroma(tmp_path: Path) -> Iterator[dict[str, object]]:
    """A `chroma run` of this test's own, so that the test can stop and restart it."""
    path, port = tmp_path / "chroma-data", free_port()
    state: dict[str, object] = {"path": path, "port": port, "proc": start_chroma(path, port)}
    yield state
    proc = state["proc"]
    assert isinstance(proc, subprocess.Popen)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


def stop(state: dict[str, object]) -> None:
    proc = state["proc"]
    assert isinstance(proc, subprocess.Popen)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def served(tmp_path: Path, own_chroma: dict[str, object]) -> Iterator[dict[str, object]]:
    """The corpus ingested into the Chroma server, and `sourcebook serve` over it."""
    settings = Settings(
        home=tmp_path / "home", folder=CORPUS, chroma_url=f"http://127.0.0.1:{own_chroma['port']}"
    )  # type: ignore[call-arg]
    ingest(settings=settings)
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [SOURCEBOOK, "serve", "--port", str(port)],
        env=env_for(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc, seconds=120)
        own_chroma.update(settings=settings, url=f"http://127.0.0.1:{port}/")
        yield own_chroma  # the same dict: a restarted server is stopped by own_chroma
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def test_chroma_server_gone_is_one_clear_line_and_service_resumes(served) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    settings = served["settings"]
    client = Client(served["url"], verbose=False)
    before = client.predict(FORUM, [], api_name="/ask")
    assert before["answered"] and before["citations"]
    library_before = answer(FORUM, settings=settings)

    stop(served)
    for args in (("ask", FORUM), ("search", "water")):
        assert_one_line_error(run_cli(settings, *args), "Chroma server is unreachable")
    with pytest.raises(StoreUnavailableError) as caught:
        answer(FORUM, settings=settings)  # the library, on an index opened while it was up
    assert "Chroma server is unreachable" in str(user_message(caught.value))
    with pytest.raises(Exception, match="Chroma server is unreachable") as in_ui:
        client.predict(FORUM, [], api_name="/ask")  # the running app's API
    assert "Traceback" not in str(in_ui.value)

    served["proc"] = start_chroma(Path(str(served["path"])), int(str(served["port"])))
    assert client.predict(FORUM, [], api_name="/ask") == before  # no restart of the app
    assert answer(FORUM, settings=settings) == library_before
    resumed = run_cli(settings, "ask", FORUM)
    assert resumed.returncode == 0 and "Sources:" in resumed.stdout


# -- two ingests at once


def test_second_ingest_refuses_while_the_first_runs(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    many_files(folder, 12)
    settings = Settings(home=tmp_path / "home", folder=folder)  # type: ignore[call-arg]
    # The first ingest blocks on reading a pipe (holding the lock) until the test writes to it,
    # so the second surely meets it, however fast or slow the machine.
    with blocking_file(folder, "zz-last.txt") as pipe:
        first = subprocess.Popen(
            [SOURCEBOOK, "ingest"], env=env_for(settings), stderr=subprocess.DEVNULL
        )
        lock = settings.home / "ingest.lock"
        while first.poll() is None and not (
            lock.exists() and lock.read_text().strip() == str(first.pid)
        ):
            time.sleep(0.01)
        assert first.poll() is None, "the first ingest ended before a second could start"
        with pytest.raises(IndexBusyError, match=f"another ingest \\(pid {first.pid}\\)"):
            ingest(settings=settings)  # a second process (this one), through the library
        second = run_cli(settings, "ingest")  # and a third, through the command line
        pipe.release()
        assert first.wait(timeout=300) == 0
    assert_one_line_error(second, f"another ingest (pid {first.pid}) is writing")

    ids = chunk_ids(settings)  # Chroma and the keyword index agree, no duplicates
    again = ingest(settings=settings)
    assert (again.added, again.updated, again.chunks_added, again.chunks_deleted) == (0, 0, 0, 0)
    assert chunk_ids(settings) == ids


# -- ingest killed at random points


KILL_FILES = 48  # about 270 chunks: ingests write in batches of 128, so a kill can land mid-way


@pytest.fixture(scope="module")
def kill_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str], list[int]]:
    """A folder of documents, the chunk ids of a clean ingest of it, and how many chunks the
    documents up to each one hold between them."""
    from app.library import get_index

    root = tmp_path_factory.mktemp("kill")
    folder = root / "docs"
    folder.mkdir()
    many_files(folder, KILL_FILES)
    clean = Settings(home=root / "clean", folder=folder)  # type: ignore[call-arg]
    ingest(settings=clean)
    index = get_index(clean)
    sizes = [len(index.stored_chunks(f"doc-{i:03d}.txt")) for i in range(KILL_FILES)]
    return folder, chunk_ids(clean), [sum(sizes[: i + 1]) for i in range(KILL_FILES)]


def chunks_written(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=0.2) as c:
            return int(c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("seed", [11, 23, 37])
def test_sigkill_at_a_random_point_then_rerun_converges(
    seed: int, kill_corpus: tuple[Path, set[str], list[int]], tmp_path: Path
) -> None:
    folder, clean_ids, upto = kill_corpus
    rng = random.Random(seed)
    settings = Settings(home=tmp_path / "home", folder=folder)  # type: ignore[call-arg]
    # A pipe after a random document holds the ingest there until it is killed. The kill comes
    # once a random number of the chunks written before the pipe (whole documents of whole
    # batches: the encoder's 256 and the writer's 128) are in,
    # so it lands anywhere: at start-up, mid-embedding, between the SQLite and the Chroma write,
    # or while the ingest waits on the pipe. The ingest cannot finish first.
    after = rng.randrange(KILL_FILES)
    threshold = rng.randint(0, written_before(upto, after, math.lcm(EMBED_BATCH, INDEX_BATCH)))
    with blocking_file(folder, f"doc-{after:03d}z-pipe.txt"):  # sorts right after doc-{after}
        proc = subprocess.Popen(
            [SOURCEBOOK, "ingest"], env=env_for(settings), stderr=subprocess.DEVNULL
        )
        db = settings.home / "sourcebook.sqlite"
        deadline = time.monotonic() + 600  # a safety net for a broken ingest, not a timing
        while proc.poll() is None and chunks_written(db) < threshold:
            assert time.monotonic() < deadline, f"{chunks_written(db)} of {threshold} chunks"
            time.sleep(0.01)
        assert proc.poll() is None, "the ingest ended though a file blocks it"
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    report = ingest(settings=settings)
    assert chunk_ids(settings) == clean_ids
    assert report.chunks_added < len(clean_ids) or report.texts_embedded < len(clean_ids)
    again = ingest(settings=settings)
    assert (again.chunks_added, again.chunks_deleted, again.texts_embedded) == (0, 0, 0)


# -- a read-only index home


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of our own, which the test can remount read-only (root ignores file modes, not a
    read-only mount)."""
    if os.geteuid() != 0 and not os.environ.get("CI"):
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def remount_read_only(mnt: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
    with pytest.raises(OSError):
        (mnt / "probe").write_text("x")


@pytest.mark.parametrize("mode", ["disk", "server"])
def test_read_only_home_refuses_ingest_and_still_answers(
    mode: str, small_mount: Path, chroma_url: str, docs_folder: Path
) -> None:
    settings = Settings(
        home=small_mount / "home",
        folder=docs_folder,
        chroma_url=chroma_url if mode == "server" else None,
    )  # type: ignore[call-arg]
    # Built and asked by processes that have ended: Linux refuses to remount a file system
    # read-only while a file on it is open for writing.
    assert run_cli(settings, "ingest").returncode == 0
    before = run_cli(settings, "ask", "--json", FORUM).stdout if mode == "server" else ""
    (docs_folder / "new.md").write_text("# New\n\nThe kettle sings at noon.\n")
    remount_read_only(small_mount)

    with pytest.raises(
        StoreError, match="cannot write to the index folder .*Read-only file system"
    ):
        ingest(settings=settings)
    assert_one_line_error(run_cli(settings, "ingest"), "Read-only file system")
    fresh = run_cli(settings, "ask", "--json", FORUM)
    if mode == "server":  # the index still answers, in a new process and in this one
        assert fresh.returncode == 0, fresh.stderr
        assert '"answered": true' in before and fresh.stdout == before
        assert answer(FORUM, settings=settings).answered
    else:  # Chroma on disk cannot open a read-only folder at all: it is said in one line
        assert_one_line_error(fresh, "read-only file system, and Chroma on disk cannot open it")


# -- a full disk


def fill_disk(mnt: Path) -> Path:
    """Take every free block of the mount but a few (a few kB are kept by the file system)."""
    filler = mnt / "filler"
    # Unbuffered: a buffered file would try its last block again on close and raise there.
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


def test_full_disk_refuses_ingest_clearly_and_recovers(
    small_mount: Path, docs_folder: Path, tmp_path: Path
) -> None:
    settings = Settings(home=small_mount / "home", folder=docs_folder)  # type: ignore[call-arg]
    ingest(settings=settings)
    before = answer(FORUM, settings=settings)
    many_files(docs_folder, 8)
    filler = fill_disk(small_mount)

    with pytest.raises(StoreError, match="disk holding the index .*is full"):
        ingest(settings=settings)
    assert answer(FORUM, settings=settings) == before  # the running app still answers
    assert_one_line_error(run_cli(settings, "ingest"), "the disk holding the index")

    filler.unlink()
    report = ingest(settings=settings)  # resumes: what was written before the disk filled stays
    assert report.added == 8
    clean = Settings(home=tmp_path / "clean", folder=docs_folder)  # type: ignore[call-arg]
    ingest(settings=clean)
    assert chunk_ids(settings) == chunk_ids(clean)

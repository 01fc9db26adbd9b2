"""Watching a folder: real files changed on a real folder, real inotify events (watchfiles), the
real model and Chroma on disk. After each change the test waits (a generous deadline, never a
timing assertion) until the watcher is idle and its index holds exactly the chunks of a clean
ingest of the same folder."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.library import document_text, find, ingest
from app.settings import Settings
from app.watch import Applied, Watcher, WatchStatus
from tests.helpers import SOURCEBOOK, blocking_file, chunk_ids

pytestmark = pytest.mark.integration

DEADLINE = 300.0  # seconds: a safety net for a broken watcher on a loaded machine, not a timing

NOTES = "# Field notes\n\nThe harbour master of Zanzibar keeps a zebra-striped kettle.\n"


def write_docs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.md").write_text(NOTES)
    (folder / "kites.txt").write_text("The kite regatta is judged by Amina Juma.\n")
    (folder / "deep").mkdir(exist_ok=True)
    (folder / "deep" / "tides.txt").write_text("Spring tides in Stone Town peak in March.\n")


@pytest.fixture
def watched(tmp_path: Path, make_settings) -> Iterator[tuple[Settings, Path, Watcher]]:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    write_docs(folder)
    settings = make_settings(folder=folder, watch_settle_seconds=1.0)
    with Watcher(settings) as watcher:
        converged(watcher, settings)
        yield settings, folder, watcher


def converged(watcher: Watcher, settings: Settings) -> WatchStatus:
    """Wait until the watcher is idle with exactly the chunks a clean ingest of the folder gives."""
    clean = settings.model_copy(update={"home": settings.home.parent / f"clean-{time.time_ns()}"})
    ingest(settings=clean)
    expected = chunk_ids(clean)
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        status = watcher.status()
        if status.idle and index_ids(settings) == expected:
            assert status.problem is None, status.problem
            return status
        time.sleep(0.2)
    assert index_ids(settings) == expected, f"not in step after {DEADLINE} s: {watcher.status()}"
    raise AssertionError(f"never idle: {watcher.status()}")


def index_ids(settings: Settings) -> set[str] | None:
    try:
        return chunk_ids(settings)
    except AssertionError:  # read while an ingest was writing: the halves can differ for a moment
        return None


def applied_since(watcher: Watcher, before: WatchStatus) -> list[Applied]:
    return [a for a in watcher.status().applied if a not in before.applied]


def wait_for_state(watcher: Watcher, state: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while watcher.status().state != state:
        assert time.monotonic() < deadline, f"never {state!r}: {watcher.status()}"
        time.sleep(0.05)


def test_create_edit_rename_move_delete(watched) -> None:  # type: ignore[no-untyped-def]
    settings, folder, watcher = watched
    steps = [
        (lambda: (folder / "ideas.md").write_text("# Ideas\n\nA teak trophy.\n"), "ideas.md added"),
        (
            lambda: (folder / "ideas.md").write_text("# Ideas\n\nA teak trophy, polished.\n"),
            "ideas.md updated",
        ),
        (lambda: (folder / "ideas.md").rename(folder / "plans.md"), "renamed to plans.md"),
        (lambda: (folder / "plans.md").rename(folder / "deep" / "plans.md"), "deep/plans.md"),
        (lambda: (folder / "kites.txt").unlink(), "kites.txt removed"),
        (lambda: hidden_and_edited(folder), "notes.md updated"),
        (lambda: shutil.move(folder / "deep", folder.parent / "moved-out"), "removed"),
        (lambda: shutil.move(folder.parent / "moved-out", folder / "back"), "2 added: back/"),
    ]
    for change, said in steps:
        before = watcher.status()
        change()
        converged(watcher, settings)
        summaries = [a.summary for a in applied_since(watcher, before)]
        assert summaries and said in summaries[-1], summaries
    assert find("zebra-striped kettle", k=1, settings=settings)[0].source == "notes.md"
    assert watcher.status().ingests >= len(steps)


def hidden_and_edited(folder: Path) -> None:
    """Hidden files and folders are not documents (as for `sourcebook ingest`); an edit is."""
    (folder / ".drafts").mkdir()
    (folder / ".drafts" / "secret.md").write_text("# Secret\n\nNot for the index.\n")
    (folder / ".draft.md").write_text("# Draft\n\nNot for the index either.\n")
    (folder / "notes.md").write_text(NOTES + "\nA second kettle, plain.\n")


def test_atomic_saves_are_one_edit(watched) -> None:  # type: ignore[no-untyped-def]
    settings, folder, watcher = watched
    # An editor's save: the new text goes to a temporary file renamed over the original. Hidden
    # temporary names (vim, VS Code) and ones of a type Sourcebook reads (tempfile's) alike.
    for temporary in (".notes.md.swp", "tmp4k2j9x.md"):
        before = watcher.status()
        text = NOTES + f"\nSaved through {temporary}.\n"
        (folder / temporary).write_text(text)
        os.replace(folder / temporary, folder / "notes.md")
        converged(watcher, settings)
        assert [a.summary for a in applied_since(watcher, before)] == ["notes.md updated"]
        assert document_text("notes.md", settings)[1] == text


def test_a_burst_is_coalesced(watched) -> None:  # type: ignore[no-untyped-def]
    settings, folder, watcher = watched
    before = watcher.status()
    for d in range(3):  # like a checkout: new folders of files, and edits to existing ones
        (folder / f"batch-{d}").mkdir()
        for i in range(100):
            (folder / f"batch-{d}" / f"file-{i:03d}.txt").write_text(
                f"Ledger {d}-{i}: crate {i * 7 + d} holds cloves from Pemba.\n"
            )
    (folder / "kites.txt").write_text("The kite regatta is judged by Juma Amina.\n")
    (folder / "notes.md").unlink()
    after = converged(watcher, settings)
    runs = after.ingests - before.ingests
    assert 1 <= runs <= 3, f"{runs} ingests for one burst"
    assert sum(a.report.added for a in applied_since(watcher, before)) == 300


def test_a_file_written_slowly_is_ingested_whole(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    write_docs(folder)
    settings = make_settings(folder=folder, watch_settle_seconds=2.0)
    seen: list[str] = []

    def snapshot(change: Applied) -> None:  # what the index held after each change it applied
        if any(c.source == "slow.txt" for c in change.report.changed):
            seen.append(document_text("slow.txt", settings)[1])

    pieces = [f"Part {n} of the harbour log: {n * 11} dhows came in.\n" for n in range(12)]
    with Watcher(settings, on_change=snapshot) as watcher:
        converged(watcher, settings)
        with (folder / "slow.txt").open("w") as f:  # a copy in progress: pieces, a pause between
            for piece in pieces:
                f.write(piece)
                f.flush()
                os.fsync(f.fileno())
                time.sleep(0.1)
        converged(watcher, settings)
    assert document_text("slow.txt", settings)[1] == "".join(pieces)
    assert seen == ["".join(pieces)], "the index held a half-written file"


def test_folder_removed_and_recreated(watched) -> None:  # type: ignore[no-untyped-def]
    settings, folder, watcher = watched
    shutil.rmtree(folder)
    wait_for_state(watcher, "folder missing")
    folder.mkdir()
    (folder / "notes.md").write_text(NOTES + "\nRewritten after the folder came back.\n")
    (folder / "fresh.txt").write_text("The new ferry to Pemba leaves at dawn.\n")
    converged(watcher, settings)
    assert sorted(settings_sources(settings)) == ["fresh.txt", "notes.md"]

    # Moved away and replaced at once by a copy holding one more file: a new folder, same name.
    shutil.copytree(folder, folder.parent / "copy")
    (folder.parent / "copy" / "extra.txt").write_text("An extra note on the monsoon winds.\n")
    folder.rename(folder.parent / "old")
    (folder.parent / "copy").rename(folder)
    converged(watcher, settings)
    assert "extra.txt" in settings_sources(settings)


def settings_sources(settings: Settings) -> list[str]:
    from app.library import list_sources

    return list_sources(settings)


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    env = {**os.environ, "SOURCEBOOK_HOME": str(settings.home), **extra}
    env["SOURCEBOOK_FOLDER"] = str(settings.folder)
    env.pop("SOURCEBOOK_CHROMA_URL", None)
    return env


def test_waits_for_a_manual_ingest_then_converges(watched) -> None:  # type: ignore[no-untyped-def]
    settings, folder, watcher = watched
    # The manual ingest blocks on reading a pipe while it holds the lock, however fast the
    # machine; the watcher (which passes pipes over) must wait for it, not fail.
    with blocking_file(folder, "zz-pipe.txt") as pipe:
        manual = subprocess.Popen(
            [SOURCEBOOK, "ingest"], env=env_for(settings), stderr=subprocess.DEVNULL
        )
        lock = settings.home / "ingest.lock"
        while manual.poll() is None and lock.read_text().strip() != str(manual.pid):
            time.sleep(0.01)
        assert manual.poll() is None, "the manual ingest ended before the watcher met it"
        (folder / "notes.md").write_text(NOTES + "\nEdited while another ingest ran.\n")
        wait_for_state(watcher, "waiting for another ingest")
        pipe.release()
        assert manual.wait(timeout=DEADLINE) == 0
    converged(watcher, settings)
    assert "Edited while another ingest ran" in document_text("notes.md", settings)[1]


# -- the command line


class Watching:
    """`sourcebook watch FOLDER` in a subprocess; its stdout lines, as they come."""

    def __init__(self, settings: Settings) -> None:
        env = env_for(settings, SOURCEBOOK_WATCH_SETTLE_SECONDS="1")
        self.proc = subprocess.Popen(
            [SOURCEBOOK, "watch", str(settings.folder)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, into in ((self.proc.stdout, self.lines), (self.proc.stderr, self.errors)):
            threading.Thread(target=lambda s=stream, i=into: i.extend(s), daemon=True).start()

    def wait_line(self, words: str, stream: str = "stdout") -> str:
        lines = self.lines if stream == "stdout" else self.errors
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            found = [line for line in lines if words in line]
            if found:
                return found[-1]
            assert self.proc.poll() is None, f"exited {self.proc.returncode}: {self.errors}"
            time.sleep(0.05)
        raise AssertionError(f"no line with {words!r}: {lines}")

    def stop(self, signal_number: int) -> int:
        self.proc.send_signal(signal_number)
        code = self.proc.wait(timeout=DEADLINE)
        time.sleep(0.2)  # the reader threads take the last lines
        return code


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_prints_each_change_and_stops_cleanly(
    tmp_path: Path, make_settings, stop_with: int
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    write_docs(folder)
    settings = make_settings(folder=folder)
    cli = Watching(settings)
    cli.wait_line("3 added")  # the first reconcile builds the index
    (folder / "ferry.txt").write_text("The ferry to Pemba leaves at dawn.\n")
    line = cli.wait_line("ferry.txt added")
    assert "chunks: 1 added" in line
    (folder / "kites.txt").unlink()
    cli.wait_line("kites.txt removed")
    assert cli.stop(stop_with) == 0
    assert any("stopped watching" in line for line in cli.errors), cli.errors
    assert not any("Traceback" in line for line in cli.errors), cli.errors
    assert sorted(settings_sources(settings)) == ["deep/tides.txt", "ferry.txt", "notes.md"]


def test_cli_watch_of_a_missing_folder_is_one_line(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(folder=tmp_path / "nowhere")
    result = subprocess.run(
        [SOURCEBOOK, "watch", str(tmp_path / "nowhere")],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("sourcebook: error: folder ")
    assert "Traceback" not in result.stderr


def test_two_threads_open_a_new_index_at_once(tmp_path: Path) -> None:
    """Regression: with serve --watch, the UI's panel and the watcher's first ingest opened the
    new Chroma folder together, and chromadb's client creation raced (AttributeError
    'RustBindingsAPI' object has no attribute 'bindings'). Opening is now serialized."""
    from store.vectors import make_chroma_client

    errors: list[BaseException] = []

    def open_it(path: Path) -> None:
        try:
            make_chroma_client(None, str(path))
        except BaseException as e:  # collected for the assertion below
            errors.append(e)

    for trial in range(10):
        path = tmp_path / f"chroma-{trial}"
        threads = [threading.Thread(target=open_it, args=(path,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors

"""The ingest lock: store/lock.py beside filelock, on what the lock is for (a second ingest told at
once who holds it; a holder killed leaves no stale lock; a home that cannot be written is one
line) and its cost per acquire and release.

    .venv/bin/python bench/lock.py      # filelock comes with huggingface-hub

"filelock" is what a swap would be: FileLock(timeout=0) for the lock, with our own holder pid and
messages around it, since filelock records no holder (its Timeout says only that the lock could
not be acquired).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from store.errors import IndexBusyError, StoreError  # noqa: E402
from store.lock import ingest_lock  # noqa: E402
from store.machine import describe  # noqa: E402

Lock = Callable[[Path], AbstractContextManager[None]]


@contextmanager
def with_filelock(home: Path) -> Iterator[None]:
    """The ingest lock on filelock: the lock, then what ours adds (the holder's pid, our errors)."""
    import filelock

    path = home / "ingest.lock"
    lock = filelock.FileLock(path, timeout=0)
    try:
        home.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except filelock.Timeout as e:
        holder = path.read_text(errors="replace").strip() or "?"
        raise IndexBusyError(f"another ingest (pid {holder}) is writing to {home}") from e
    except OSError as e:
        raise StoreError(f"cannot write to the index folder {home} ({e.strerror or e})") from e
    try:
        path.write_text(str(os.getpid()))
        yield
    finally:
        lock.release()


HOLD = """import sys, time; sys.path[:0] = {paths!r}
from bench.lock import {name} as lock
from pathlib import Path
with lock(Path({home!r})):
    print("held", flush=True); time.sleep(60)"""


def second_ingest(lock: Lock, name: str, home: Path) -> tuple[str, str]:
    """(what a second ingest is told while another process holds the lock, and once that
    process was killed with SIGKILL)."""
    code = HOLD.format(paths=[str(REPO)], name=name, home=str(home))
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    try:
        with lock(home):
            told = "not refused"
    except StoreError as e:
        told = "refused, names the holder" if str(holder.pid) in str(e) else f"refused: {e}"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    try:
        with lock(home):
            after = "taken at once"
    except StoreError as e:
        after = f"still held: {e}"
    return told, after


def unwritable(lock: Lock, home: Path) -> str:
    """A home that cannot be made (its parent is a file)."""
    blocker = home / "file"
    blocker.write_text("x")
    try:
        with lock(blocker / "home"):
            return "no error"
    except StoreError as e:
        return "one line (StoreError)" if "\n" not in str(e) else str(e)
    except Exception as e:
        return f"{type(e).__name__}: {e}"


def cost(lock: Lock, home: Path, rounds: int = 2000) -> float:
    """Microseconds per uncontended acquire and release, best of 3."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            with lock(home):
                pass
        best = min(best, (time.perf_counter() - started) / rounds * 1e6)
    return best


def main() -> None:
    import filelock

    print(f"CPU: {describe()}")
    candidates: dict[str, Lock] = {"ours": ingest_lock, f"filelock {filelock.__version__}":
                                   with_filelock}  # fmt: skip
    names = {"ours": "ingest_lock"}
    print(f"{'':16}{'second ingest':>28}{'holder killed':>16}{'home unwritable':>24}{'µs/use':>9}")
    for label, lock in candidates.items():
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            told, after = second_ingest(lock, names.get(label, "with_filelock"), home / "a")
            bad = unwritable(lock, home)
            micros = cost(lock, home / "b")
        print(f"{label:16}{told:>28}{after:>16}{bad:>24}{micros:>9.1f}")
    with contextlib.suppress(OSError):
        lines = len((REPO / "store" / "lock.py").read_text().splitlines())
        print(
            f"\nstore/lock.py: {lines} lines; the filelock version above: 20 lines and a dependency"
        )


if __name__ == "__main__":
    main()

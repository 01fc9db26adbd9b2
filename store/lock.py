"""One ingest at a time per index: per home across processes, or, for an index in PostgreSQL,
across machines (an advisory lock in the database)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.errors import IndexBusyError, StoreError


@contextmanager
def ingest_lock(home: Path, database_url: str | None = None) -> Iterator[None]:
    """Hold the index's ingest lock; a second ingest is told who holds it."""
    if database_url:
        from store.pg import writer_lock

        with writer_lock(database_url):
            yield
        return
    path = home / "ingest.lock"
    try:
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise StoreError(
            f"cannot write to the index folder {home} ({e.strerror or e}); an ingest needs to "
            "write there (SOURCEBOOK_HOME); the index was left as it was"
        ) from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise IndexBusyError(
                f"another ingest (pid {holder}) is writing to {home}; wait for it to finish"
            ) from e
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)

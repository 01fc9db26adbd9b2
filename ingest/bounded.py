"""Parse a document in a worker process under a time bound, so no file can hang an ingest."""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any, TypeVar

from ingest.errors import LoadError
from ingest.extracted import Extracted
from ingest.formats import load

log = logging.getLogger(__name__)

T = TypeVar("T")
PARSE_SECONDS = 60.0  # far beyond any real document; a parser stuck in a loop is stopped here
IN_PROCESS = (".txt", ".md", ".markdown")  # decoding text cannot hang: no worker needed
# Parsers log what they repair ("EOF marker not found"); the skip reason says enough.
PARSER_LOGGERS = ("pypdf", "docx", "bs4")

_pool: Pool | None = None
_lock = threading.Lock()


def _get_pool() -> Pool:
    global _pool
    if _pool is None:
        # forkserver: a clean worker, not a fork of a process holding model and thread state.
        _pool = multiprocessing.get_context("forkserver").Pool(1, initializer=_quiet)
        atexit.register(_reset_pool)  # before module teardown, or Pool.__del__ complains
    return _pool


def _quiet() -> None:
    for name in PARSER_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _reset_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.terminate()  # the only way to stop a parser that does not return
        _pool = None


def call_bounded(fn: Callable[..., T], *args: Any, seconds: float, what: str) -> T:
    """`fn(*args)` in the worker, which is killed if it takes longer than `seconds`."""
    with _lock:
        job = _get_pool().apply_async(fn, args)
    try:
        return job.get(timeout=seconds)
    except multiprocessing.TimeoutError:
        log.warning("stopped parsing %s after %g s", what, seconds)
        with _lock:
            _reset_pool()
        raise LoadError(
            f"parsing took longer than {seconds:g} s; the file looks malformed"
        ) from None


def load_bounded(path: Path, data: bytes, seconds: float = PARSE_SECONDS) -> Extracted:
    """`load(path, data)`, in a worker that is killed if it takes longer than `seconds`."""
    if path.suffix.lower() in IN_PROCESS:
        return load(path, data)
    return call_bounded(load, path, data, seconds=seconds, what=path.name)

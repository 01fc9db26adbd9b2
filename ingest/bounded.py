"""Parse a document in a worker process under a time bound, so no file can hang an ingest."""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any, TypeVar

from ingest.beat import install as install_beat
from ingest.errors import LoadError
from ingest.extracted import Extracted
from ingest.formats import load, page_image

log = logging.getLogger(__name__)

T = TypeVar("T")
# Far beyond any real document's parse, or one page's OCR; a parser stuck in a loop is stopped
# here. Loaders that work page by page (OCR) report progress, which restarts the clock.
PARSE_SECONDS = 60.0
POLL_SECONDS = 0.5
IN_PROCESS = (".txt", ".md", ".markdown")  # decoding text cannot hang: no worker needed
# Parsers log what they repair ("EOF marker not found"); the skip reason says enough.
PARSER_LOGGERS = ("pypdf", "docx", "bs4", "pptx", "openpyxl", "PIL")

_pool: Pool | None = None
_beats: Any = None  # the worker's progress counter (ingest.beat), shared with this process
_lock = threading.Lock()


def _get_pool() -> tuple[Pool, Any]:
    global _pool, _beats
    if _pool is None:
        # forkserver: a clean worker, not a fork of a process holding model and thread state.
        context = multiprocessing.get_context("forkserver")
        _beats = context.Value("Q", 0, lock=False)  # one writer: the worker
        _pool = context.Pool(1, initializer=_start_worker, initargs=(_beats,))
        atexit.register(_reset_pool)  # before module teardown, or Pool.__del__ complains
    return _pool, _beats


def _start_worker(beats: Any) -> None:
    install_beat(beats)
    for name in PARSER_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _reset_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.terminate()  # the only way to stop a parser that does not return
        _pool = None


def call_bounded(fn: Callable[..., T], *args: Any, seconds: float, what: str) -> T:
    """`fn(*args)` in the worker, which is killed if it goes `seconds` without progress (a
    return, or a call of `ingest.beat.alive()`)."""
    with _lock:
        pool, beats = _get_pool()
        job = pool.apply_async(fn, args)
    seen, since = beats.value, time.monotonic()
    while True:
        try:
            return job.get(timeout=POLL_SECONDS)
        except multiprocessing.TimeoutError:
            if beats.value != seen:
                seen, since = beats.value, time.monotonic()
            elif time.monotonic() - since > seconds:
                break
    log.warning("stopped parsing %s after %g s without progress", what, seconds)
    with _lock:
        _reset_pool()
    raise LoadError(f"parsing took longer than {seconds:g} s; the file looks malformed")


def page_image_bounded(path: Path, data: bytes, page: int, seconds: float = PARSE_SECONDS) -> bytes:
    """`page_image(path, data, page)` in the worker: a hostile file is parsed there as at ingest."""
    return call_bounded(page_image, path, data, page, seconds=seconds, what=path.name)


def load_bounded(path: Path, data: bytes, seconds: float = PARSE_SECONDS) -> Extracted:
    """`load(path, data)`, in a worker that is killed if it makes no progress for `seconds`."""
    if path.suffix.lower() in IN_PROCESS:
        return load(path, data)
    return call_bounded(load, path, data, seconds=seconds, what=path.name)

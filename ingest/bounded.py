"""Parse a document in a worker process under a time bound, so no file can hang an ingest.

Each call has a worker to itself while it runs, with its own sign of life: a call that runs
past its bound stops its own worker only, never another caller's parse (a page picture drawn
for the viewer times out beside an ingest, and the ingest goes on). Idle workers are kept for
the next call; at most MAX_WORKERS run at once, and a call beyond that waits for one (its clock
starts when it runs)."""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
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
MAX_WORKERS = 4  # an ingest parses one file at a time; the rest is for the viewer's pictures
IN_PROCESS = (".txt", ".md", ".markdown")  # decoding text cannot hang: no worker needed
# Parsers log what they repair ("EOF marker not found"); the skip reason says enough.
PARSER_LOGGERS = ("pypdf", "docx", "bs4", "pptx", "openpyxl", "PIL")


class _Worker:
    """One worker process (a pool of one) and the progress counter only it writes."""

    def __init__(self) -> None:
        # forkserver: a clean worker, not a fork of a process holding model and thread state.
        context = multiprocessing.get_context("forkserver")
        self.beats: Any = context.Value("Q", 0, lock=False)
        self.pool = context.Pool(1, initializer=_start_worker, initargs=(self.beats,))

    def run(
        self, fn: Callable[..., Any], args: tuple[Any, ...], seconds: float
    ) -> tuple[bool, Any]:
        """(True, `fn(*args)`) run here, or (False, None) once `seconds` pass without progress
        (a return, or a call of `ingest.beat.alive()`), the call left running."""
        job = self.pool.apply_async(fn, args)
        seen, since = self.beats.value, time.monotonic()
        while True:
            try:
                return True, job.get(timeout=POLL_SECONDS)
            except multiprocessing.TimeoutError:
                if self.beats.value != seen:
                    seen, since = self.beats.value, time.monotonic()
                elif time.monotonic() - since > seconds:
                    return False, None

    def stop(self) -> None:
        self.pool.terminate()  # the only way to stop a parser that does not return


_idle: list[_Worker] = []
_all: set[_Worker] = set()
_lock = threading.Lock()
_running = threading.BoundedSemaphore(MAX_WORKERS)


def _start_worker(beats: Any) -> None:
    install_beat(beats)
    for name in PARSER_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _take() -> _Worker:
    with _lock:
        if _idle:
            return _idle.pop()
    worker = _Worker()
    with _lock:
        if not _all:
            atexit.register(_stop_all)  # before module teardown, or Pool.__del__ complains
        _all.add(worker)
    return worker


def _retire(worker: _Worker, healthy: bool) -> None:
    """Give `worker` back for the next call, or stop it (it is still running a call)."""
    with _lock:
        if healthy:
            _idle.append(worker)
            return
        _all.discard(worker)
    worker.stop()


def _stop_all() -> None:
    with _lock:
        workers = list(_all)
        _all.clear()
        _idle.clear()
    for worker in workers:
        worker.stop()


def call_bounded(fn: Callable[..., T], *args: Any, seconds: float, what: str) -> T:
    """`fn(*args)` in a worker of its own, which is stopped if it goes `seconds` without
    progress (a return, or a call of `ingest.beat.alive()`); other callers' work goes on."""
    with _running:
        worker, done = _take(), False
        try:
            done, result = worker.run(fn, args, seconds)
        except Exception:
            done = True  # `fn` raised in the worker: the worker itself is fine
            raise
        finally:  # also on KeyboardInterrupt: a worker left running a call is stopped
            _retire(worker, healthy=done)
    if not done:
        log.warning("stopped parsing %s after %g s without progress", what, seconds)
        raise LoadError(f"parsing took longer than {seconds:g} s; the file looks malformed")
    return result  # type: ignore[no-any-return]


def page_image_bounded(path: Path, data: bytes, page: int, seconds: float = PARSE_SECONDS) -> bytes:
    """`page_image(path, data, page)` in a worker: a hostile file is parsed there as at ingest."""
    return call_bounded(page_image, path, data, page, seconds=seconds, what=path.name)


def load_bounded(path: Path, data: bytes, seconds: float = PARSE_SECONDS) -> Extracted:
    """`load(path, data)`, in a worker that is killed if it makes no progress for `seconds`."""
    if path.suffix.lower() in IN_PROCESS:
        return load(path, data)
    return call_bounded(load, path, data, seconds=seconds, what=path.name)

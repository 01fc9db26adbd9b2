"""The watcher: file-system events, settled and coalesced into incremental ingests, one at a
time.

Two threads. The listener takes events from watchfiles (inotify read in a Rust thread, so a busy
ingest never stalls it) and notes each changed path with its size and mtime. The worker waits
until the folder has been quiet for the settle interval and each noted file's size and mtime
have held as long, then hands the settled paths to the incremental ingest in one run. The state
on disk decides, never the order of events: an atomic save (temp file renamed over the original)
is just "the original changed", and a path that is gone is removed with everything under it.
When in doubt (a restart, the folder recreated, a burst too large to trust, a symlink) the
whole folder is reconciled, which re-reads only files whose size or mtime changed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.library import followed_folder, ingest, list_sources
from app.settings import Settings, get_settings
from app.watch.events import listen
from app.watch.status import Applied, WatchStatus, applied, state_of, summarize
from ingest import SUPPORTED, IngestError, IngestReport
from store import IndexBusyError, IndexMismatchError, SourcebookError

log = logging.getLogger(__name__)

# More events than this between two ingests and the whole folder is reconciled: cheaper than
# naming a thousand paths, and it covers events the kernel may have dropped (its queue holds
# 16,384 by default) when a burst outran the reader.
WHOLE_AFTER = 1000
KEPT_CHANGES = 20

Signature = tuple[int, int, int, bool] | None  # (size, mtime_ns, inode, is a folder); None: gone


class WatchStopped(SourcebookError):
    """The watcher was stopped during an ingest, which was abandoned (the next one converges)."""


@dataclass
class _Pending:
    """Changes seen and not yet ingested."""

    paths: dict[Path, tuple[Signature, float]] = field(default_factory=dict)  # (signature, seen)
    whole: bool = False
    events: int = 0
    first: float | None = None  # when the oldest unapplied change came in; None: nothing to do
    last: float = 0.0  # when the newest event came in


@dataclass(frozen=True)
class _Batch:
    paths: dict[Path, tuple[Signature, float]]
    whole: bool


class Watcher:
    """Keeps the index in step with the folder it follows while it runs (`start`, `stop`, or
    `with`): the folder it was built from, or for a new index `settings.folder`."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        on_change: Callable[[Applied], None] | None = None,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.folder = Path(os.path.realpath(followed_folder(self.settings)))
        self._settle = self.settings.watch_settle_seconds
        self._on_change = on_change
        self._on_problem = on_problem
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._pending = _Pending()
        self._flags = {"missing": False, "ingesting": False, "busy": False, "started": False}
        self._applied: list[Applied] = []
        self._ingests = 0
        self._problem: str | None = None
        self._since = datetime.now().astimezone()
        self._threads: list[threading.Thread] = []

    # -- running
    def start(self) -> Watcher:
        home = Path(os.path.realpath(self.settings.home.expanduser()))
        listener = threading.Thread(
            target=listen,
            args=(self.folder, home, self._stop, self._note, self._missing, self._settle),
            name="watch-listener",
            daemon=True,
        )
        worker = threading.Thread(target=self._work, name="watch-ingest", daemon=True)
        self._threads = [listener, worker]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> None:
        """Stop watching; an ingest under way is abandoned at its next file."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the interfaces read
    def status(self) -> WatchStatus:
        with self._cond:
            flags, pending = dict(self._flags), self._pending
            state = state_of(flags, self._stop.is_set(), pending.first is not None)
            return WatchStatus(
                folder=str(self.folder),
                state=state,
                since=self._since,
                pending=len(pending.paths),
                ingests=self._ingests,
                applied=list(self._applied),
                problem=self._problem,
            )

    # -- what the listener hands over
    def _note(self, paths: list[Path], events: int, whole: bool) -> None:
        now = time.monotonic()
        with self._cond:
            pending = self._pending
            pending.events += events
            pending.last = now
            for path in paths:
                pending.paths[path] = (_signature(path), now)
            pending.whole |= whole or pending.events > WHOLE_AFTER
            if paths or whole:
                pending.first = pending.first or now
                self._flags["started"] = True
            self._cond.notify_all()

    def _missing(self, missing: bool) -> None:
        self._set_flags(missing=missing)

    # -- the worker
    def _work(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                batch = self._next_batch()
                if batch is not None:
                    failures = self._apply(batch, failures)
            except Exception as e:  # the edge of a thread: a watcher that stops must say so
                log.exception("watching %s failed", self.folder)
                self._report_problem(f"watching failed ({type(e).__name__}: {e}); going on")
                failures += 1
            if failures:
                self._stop.wait(min(60.0, self._settle * 2**failures))

    def _next_batch(self) -> _Batch | None:
        """Wait until changes have settled; take them (files still changing stay behind)."""
        max_wait = self.settings.watch_max_wait_seconds
        with self._cond:
            while not self._stop.is_set():
                pending, now = self._pending, time.monotonic()
                if pending.first is None:
                    self._cond.wait()
                    continue
                due = min(pending.last + self._settle, pending.first + max_wait)
                if now < due:
                    self._cond.wait(due - now)
                    continue
                batch = self._take(now, forced=now >= pending.first + max_wait)
                if batch is not None:
                    return batch
                self._cond.wait(self._settle)
        return None

    def _take(self, now: float, forced: bool) -> _Batch | None:
        pending = self._pending
        if not self.folder.is_dir():
            return None  # the listener reconciles the whole folder when it is back
        settled, waiting = {}, {}
        for path, (signature, seen) in pending.paths.items():
            current = _signature(path)
            if current != signature:  # changed with no event (yet): start its wait again
                waiting[path] = (current, now)
                pending.last = now
            elif now - seen < self._settle:
                waiting[path] = (signature, seen)
            else:
                settled[path] = (signature, seen)
        whole = pending.whole or any(path.is_symlink() for path in settled)
        if not whole and not self._may_matter(list(settled)):
            settled = {}  # only temporary files came and went: nothing to ingest
        if (whole and waiting and not forced) or not (settled or whole):
            pending.paths = {**settled, **waiting}
            if not pending.paths:
                pending.first = None
            return None
        pending.paths, pending.whole, pending.events = waiting, False, 0
        pending.first = now if waiting else None
        return _Batch(settled, whole)

    def _may_matter(self, paths: list[Path]) -> bool:
        """False when every path is gone, is no document by its name, and held no documents."""
        gone = [p for p in paths if not p.exists() and p.suffix.lower() not in SUPPORTED]
        if len(gone) < len(paths):
            return True
        try:
            sources = list_sources(self.settings)
        except SourcebookError:  # no index yet: let the ingest decide
            return True
        prefixes = tuple(p.relative_to(self.folder).as_posix() + "/" for p in gone)
        return any(source.startswith(prefixes) for source in sources)

    def _apply(self, batch: _Batch, failures: int) -> int:
        """Run one ingest for `batch`; how many times in a row it has failed since (0: done)."""
        paths = None if batch.whole else sorted(batch.paths)
        self._set_flags(ingesting=True)
        try:
            report = ingest(paths, settings=self.settings, progress=self._progress)
        except IndexBusyError:  # a manual ingest, or the UI's button: wait for it, then go on
            self._set_flags(ingesting=False, busy=True)
            self._put_back(batch, retry=True)
            return 0
        except WatchStopped:
            return 0
        except (IngestError, IndexMismatchError) as e:  # e.g. an empty folder: wait for a change
            self._report_problem(str(e))
            self._put_back(_Batch({}, batch.whole), retry=False)
            return 0
        except SourcebookError as e:  # e.g. the Chroma server is down: try again later
            self._report_problem(str(e))
            self._put_back(batch, retry=True)
            return failures + 1
        except Exception as e:  # the edge of a thread: logged, and tried again later
            log.exception("watching %s: the ingest failed", self.folder)
            self._report_problem(f"the ingest failed ({type(e).__name__}: {e}); trying again")
            self._put_back(batch, retry=True)
            return failures + 1
        self._record(report, batch.whole)
        return 0

    def _progress(self, done: int, total: int, source: str) -> None:
        if self._stop.is_set():
            raise WatchStopped("stopped")

    def _put_back(self, batch: _Batch, *, retry: bool) -> None:
        with self._cond:
            pending = self._pending
            pending.paths = {**batch.paths, **pending.paths}
            pending.whole |= batch.whole
            if retry:
                pending.first = pending.first or time.monotonic()
                pending.last = max(pending.last, time.monotonic())

    def _record(self, report: IngestReport, whole: bool) -> None:
        change = Applied(datetime.now().astimezone(), summarize(report), report, whole)
        with self._cond:
            self._ingests += 1
            self._flags.update(ingesting=False, busy=False)
            self._problem = None
            if applied(report, whole):
                self._applied = [*self._applied, change][-KEPT_CHANGES:]
        log.info("watching %s: %s", self.folder, change.summary)
        if applied(report, whole) and self._on_change:
            self._on_change(change)  # an error here is the worker's to log

    def _report_problem(self, message: str) -> None:
        with self._cond:
            self._problem = message
            self._flags.update(ingesting=False, busy=False)
        log.info("watching %s: %s", self.folder, message)
        if self._on_problem:
            self._on_problem(message)

    def _set_flags(self, **values: bool) -> None:
        with self._cond:
            self._flags.update(values)


def _signature(path: Path) -> Signature:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino, path.is_dir())

"""The watcher's ears: watchfiles' events for a folder, followed through the folder's removal
and return, and filtered to the paths that can matter to the index."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from ingest import passed_over, readable

log = logging.getLogger(__name__)

DEBOUNCE_MS, STEP_MS = 500, 50  # watchfiles hands over a batch at most this late
TICK_MS = 1000  # how often the listener looks whether the folder itself is still there

# (changed paths that matter, events in all, whether to reconcile the whole folder)
Note = Callable[[list[Path], int, bool], None]


def listen(
    folder: Path,
    home: Path,
    stop: threading.Event,
    note: Note,
    missing: Callable[[bool], None],
    retry_seconds: float,
) -> None:
    """Until `stop`: watch `folder`; while it is missing, say so and wait for it to come back.
    Each (re)start asks for a whole-folder reconcile once the watches are in place, so nothing
    changed in between goes unseen. The index's own files (`home`, if inside) are not news."""
    while not stop.is_set():
        if not folder.is_dir():
            missing(True)
            stop.wait(retry_seconds)
            continue
        missing(False)
        try:
            watch_until_folder_goes(folder, home, stop, note)
        except (OSError, RuntimeError) as e:  # gone at that moment; watchfiles' own errors
            log.warning("watching %s failed (%s); starting again", folder, e)
            stop.wait(retry_seconds)
        except Exception:  # the edge of a thread: a watcher that stops listening must say so
            log.exception("watching %s failed; starting again", folder)
            stop.wait(retry_seconds)


def watch_until_folder_goes(folder: Path, home: Path, stop: threading.Event, note: Note) -> None:
    from watchfiles import Change, watch

    identity = _identity(folder)
    batches = watch(
        folder,
        stop_event=stop,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        rust_timeout=TICK_MS,
        yield_on_timeout=True,
        watch_filter=None,
        raise_interrupt=False,
        ignore_permission_denied=True,
    )
    reconciled = False
    for changes in batches:
        if not reconciled:  # the watches are in place: what changed before, a reconcile finds
            note([], 0, True)
            reconciled = True
        changes = {(c, p) for c, p in changes if not Path(p).is_relative_to(home)}
        if changes:
            paths = {Path(p) for c, p in changes if relevant(folder, Path(p), c == Change.added)}
            note(sorted(paths), len(changes), False)
        gone = (Change.deleted, str(folder)) in changes
        if gone or _identity(folder) != identity:
            log.info("%s was removed or replaced; watching it again when it is back", folder)
            return


def relevant(folder: Path, path: Path, added: bool) -> bool:
    """Whether a changed path can matter to the index, by the rules of `list_files`."""
    try:
        relative = path.relative_to(folder)
    except ValueError:
        return False
    if not relative.parts or any(passed_over(part) for part in relative.parts):
        return False
    if Path(os.path.realpath(path.parent)) != path.parent:
        return False  # inside a linked folder, which the ingest does not follow
    if path.is_symlink():
        return True
    if path.is_dir():
        return added  # a folder made or moved in: its files may have come before its watch
    if path.is_file():
        return readable(path)
    return not path.exists()  # gone: a document or a folder of them (a pipe is neither)


def _identity(folder: Path) -> tuple[int, int] | None:
    try:
        st = folder.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)

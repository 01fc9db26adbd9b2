"""Following a shared change log by position: where a keyword index has got to (a file in its
folder, with the id of the log's index), and the loop that applies what other servers log."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from store.errors import StoreError

log = logging.getLogger(__name__)

FOLLOW_SECONDS = 0.5  # how often a shared log is looked at for other servers' changes
POSITION = "position.json"


def read_position(folder: Path, index_id: str | None) -> int:
    """The last log entry applied to the index in `folder`; 0 if unknown or of another index."""
    try:
        kept = json.loads((folder / POSITION).read_text())
    except (OSError, ValueError):
        return 0
    return int(kept["seq"]) if kept.get("index") == index_id else 0


def write_position(folder: Path, index_id: str | None, seq: int) -> None:
    tmp = folder / f".position.{os.getpid()}"
    tmp.write_text(json.dumps({"index": index_id, "seq": seq}))
    tmp.replace(folder / POSITION)


def follow(
    stopped: threading.Event, behind: Callable[[], bool], catch_up: Callable[[], None]
) -> None:
    """Until `stopped`: every FOLLOW_SECONDS, `catch_up()` if `behind()`. A lost database is
    said once, not every time, and not at all once the index is closing."""
    failing = False
    while not stopped.wait(FOLLOW_SECONDS):
        try:
            if behind():
                catch_up()
            failing = False
        except StoreError as e:
            if not failing and not stopped.is_set():
                log.warning("keyword index not following the log: %s", e)
            failing = True

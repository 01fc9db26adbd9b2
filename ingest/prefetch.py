"""Run a generator in a thread, a bounded number of items ahead of its consumer.

Ingest uses it so that reading, parsing and chunking the next files overlaps with embedding the
current batch: the encoder (torch or OpenVINO) releases the GIL while it computes.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterator[T], ahead: int, name: str = "prefetch") -> Iterator[T]:
    """Yield what `items` yields, produced in a thread at most `ahead` items early.

    An exception in the producer is raised here, in the consumer; a consumer that stops early
    (or fails) stops the producer at its next item."""
    slots: queue.Queue[object] = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as e:  # handed to the consumer, which raises it
            put(_Failed(e))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=30)
        if thread.is_alive():  # a producer stuck inside one file; it is a daemon thread
            log.warning("the %s thread did not stop within 30 s", name)

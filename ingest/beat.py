"""A parse's sign of life. A loader that works through many pages (OCR) calls `alive()` after
each, so the bound on a parse is time without progress rather than the file's total time."""

from __future__ import annotations

from typing import Any

_counter: Any = None  # a multiprocessing.Value shared with the parent; None outside a worker


def install(counter: Any) -> None:
    """Make `alive()` count on `counter` (called in the worker as it starts)."""
    global _counter
    _counter = counter


def alive() -> None:
    """Tell the waiting parent that the parse is still moving (a no-op in-process)."""
    if _counter is not None:
        _counter.value += 1

"""Progress of an ingest on the terminal (part of the CLI): a bar with an ETA on a TTY, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ingest import Progress


def eta(done: int, total: int, elapsed: float) -> str:
    """ ", about 1m20s left", from the rate so far; empty until there is a rate to go by."""
    if done <= 0 or done >= total or elapsed < 1.0:
        return ""
    left = int(elapsed / done * (total - done))
    return f", about {left // 60}m{left % 60:02d}s left" if left >= 60 else f", about {left}s left"


def make_progress(label: str) -> tuple[Progress, Callable[[], None]]:
    """A progress callback for the ingest pipeline and a function that closes it."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar: list[tqdm] = []

        def on_tty(done: int, total: int, source: str) -> None:
            if not bar:
                bar.append(tqdm(total=total, unit="file", desc=label, file=sys.stderr))
            bar[0].update(done - bar[0].n)  # update(), not n=: tqdm's ETA smooths over updates
            bar[0].set_postfix_str(source[-40:], refresh=True)

        return on_tty, lambda: bar[0].close() if bar else None

    last = [0.0]
    started = time.monotonic()

    def on_pipe(done: int, total: int, source: str) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 2.0:
            last[0] = now
            print(
                f"{label}: {done}/{total} files{eta(done, total, now - started)}",
                file=sys.stderr,
                flush=True,
            )

    return on_pipe, lambda: None

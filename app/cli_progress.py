"""Progress of an ingest on the terminal (part of the CLI): a bar with an ETA on a TTY, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ingest.pipeline import Progress


def make_progress(label: str) -> tuple[Progress, Callable[[], None]]:
    """A progress callback for the ingest pipeline and a function that closes it."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar: list[tqdm] = []

        def on_tty(done: int, total: int, source: str) -> None:
            if not bar:
                bar.append(tqdm(total=total, unit="file", desc=label, file=sys.stderr))
            bar[0].n = done
            bar[0].set_postfix_str(source[-40:], refresh=True)

        return on_tty, lambda: bar[0].close() if bar else None

    last = [0.0]

    def on_pipe(done: int, total: int, source: str) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 2.0:
            last[0] = now
            print(f"{label}: {done}/{total} files", file=sys.stderr, flush=True)

    return on_pipe, lambda: None

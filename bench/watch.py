"""How soon a change in a watched folder is searchable: time from a write (file closed) until
`find()` returns it, for new files and edits, with the watcher's default settings; then a burst
of 1,000 files (how many ingest runs, how long until the last is searchable, CPU) and the CPU a
watcher uses at rest.

    .venv/bin/python bench/watch.py            # the bundled corpus plus 300 extra files
    .venv/bin/python bench/watch.py --small    # the bundled corpus only, a CI-sized run
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from bench/: import the project

from app import find, ingest  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.watch import Watcher  # noqa: E402

DEADLINE = 600.0


def cpu_model() -> str:
    info = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in info if "model name" in line), "?")
    flags = set(next((line for line in info if line.startswith("flags")), "").split())
    present = " ".join(f for f in ("avx2", "avx512_vnni") if f in flags) or "no avx2"
    return f"{model}, {os.cpu_count()} cores, {present}"


def filler(folder: Path, count: int) -> None:
    for i in range(count):
        sub = folder / f"extra-{i % 10}"
        sub.mkdir(exist_ok=True)
        (sub / f"note-{i:04d}.txt").write_text(
            f"Extra note {i}. Crate {i * 7} of cloves was weighed at the Pemba store.\n"
        )


def searchable(token: str, settings: Settings, source: str) -> None:
    """Wait until a search for `token` finds `source` first."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        hits = find(token, k=1, settings=settings)
        if hits and hits[0].source == source and token in hits[0].text:
            return
        time.sleep(0.02)
    raise SystemExit(f"{source} was not searchable within {DEADLINE} s")


def idle(watcher: Watcher) -> None:
    deadline = time.monotonic() + DEADLINE
    while not watcher.status().idle:
        if time.monotonic() > deadline:
            raise SystemExit(f"the watcher never settled: {watcher.status()}")
        time.sleep(0.05)


def write_to_search(watcher: Watcher, settings: Settings, rounds: int) -> list[float]:
    """Seconds from each write to the first search that finds it: new files, then edits."""
    folder, took = settings.folder, []
    for i in range(rounds):
        token = f"quokka{uuid.uuid4().hex[:10]}"
        name = f"new-{i}.txt" if i % 2 == 0 else "new-0.txt"
        text = f"Ferry log {i}. The {token} was sighted off Pemba at dawn.\n"
        (folder / name).write_text(text)
        written = time.monotonic()
        searchable(token, settings, name)
        took.append(time.monotonic() - written)
        idle(watcher)
    return took


def burst(watcher: Watcher, settings: Settings, count: int) -> tuple[float, int, float]:
    """(seconds until the last file is searchable, ingest runs, CPU seconds) for `count` files
    written at once in ten new folders."""
    before, cpu, started = watcher.status().ingests, time.process_time(), time.monotonic()
    token = f"quokka{uuid.uuid4().hex[:10]}"
    for i in range(count):
        sub = settings.folder / f"burst-{i % 10}"
        sub.mkdir(exist_ok=True)
        last = f"Burst note {i}. Crate {i * 13} of cloves sailed for Mombasa.\n"
        (sub / f"b-{i:04d}.txt").write_text(last if i < count - 1 else last + f"{token}.\n")
    searchable(token, settings, f"burst-{(count - 1) % 10}/b-{count - 1:04d}.txt")
    seconds = time.monotonic() - started
    idle(watcher)
    return seconds, watcher.status().ingests - before, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="bundled corpus, fewer rounds")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        shutil.copytree(REPO / "corpus", folder)
        filler(folder, 0 if args.small else 300)
        settings = Settings(home=Path(tmp) / "home", folder=folder)
        report = ingest(settings=settings)
        print(f"folder: {report.added} files; settle {settings.watch_settle_seconds:g} s")
        with Watcher(settings) as watcher:
            idle(watcher)
            took = sorted(write_to_search(watcher, settings, 6 if args.small else 20))
            ingest_s = [a.report.seconds for a in watcher.status().applied if not a.whole_folder]
            print(
                f"write -> searchable over {len(took)} writes (new files and edits): "
                f"p50 {statistics.median(took):.2f} s, max {took[-1]:.2f} s "
                f"(of which the ingest run p50 {statistics.median(ingest_s):.2f} s)"
            )
            seconds, runs, cpu = burst(watcher, settings, 200 if args.small else 1000)
            count = 200 if args.small else 1000
            print(
                f"burst of {count} new files: last searchable after {seconds:.1f} s, "
                f"{runs} ingest run(s), {cpu:.1f} CPU s (embedding included)"
            )
            cpu = time.process_time()
            time.sleep(10)
            print(f"watching at rest: {time.process_time() - cpu:.3f} CPU s over 10 s")


if __name__ == "__main__":
    main()

"""watchdog against watchfiles, the two watching libraries on PyPI, on the operations a watched
folder meets: event latency, CPU on a burst and at rest, an editor's atomic save, a folder made
and filled at once, and the watched folder removed and recreated.

    .venv/bin/python bench/watch_backends.py      # needs both: pip install watchdog==7.1.0

Each library watches from its own process (so its CPU time is its own, read from /proc) and
prints every event it delivers; this process makes the changes and reads the events back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def cpu_model() -> str:
    info = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line), "?"
    )
    flags = set(next((line for line in info.splitlines() if line.startswith("flags")), "").split())
    present = [f for f in ("avx2", "avx512_vnni") if f in flags]
    return f"{model} ({os.cpu_count()} cores; {' '.join(present) or 'no avx2'})"


# -- the watching side (a child process per library) ---------------------------------------


def child_watchfiles(root: str, stop: threading.Event) -> None:
    from watchfiles import watch

    ready = False
    try:
        # The first (empty) yield on timeout says the watches are in place.
        changes_seen = watch(
            root,
            stop_event=stop,
            debounce=1600,
            step=50,
            watch_filter=None,
            rust_timeout=100,
            yield_on_timeout=True,
        )
        for changes in changes_seen:
            if not ready:
                print(json.dumps(["ready"]), flush=True)
                ready = True
            now = time.time()
            for change, path in sorted(changes, key=lambda c: c[1]):
                print(json.dumps([now, change.name, path]), flush=True)
    except Exception as e:
        print(json.dumps([time.time(), "error", repr(e)]), flush=True)


def child_watchdog(root: str, stop: threading.Event) -> None:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    # watchdog is not installed with the project (see above): its types may be unknown.
    class Printer(FileSystemEventHandler):  # type: ignore[misc,unused-ignore]
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in ("opened", "closed", "closed_no_write"):
                return
            paths = [str(event.src_path)] + ([str(event.dest_path)] if event.dest_path else [])
            print(json.dumps([time.time(), event.event_type, " -> ".join(paths)]), flush=True)

    observer = Observer()
    observer.schedule(Printer(), root, recursive=True)
    observer.start()
    print(json.dumps(["ready"]), flush=True)
    while not stop.wait(0.5):
        if not observer.is_alive():
            print(json.dumps([time.time(), "error", "observer thread ended"]), flush=True)
            stop.wait()
    observer.stop()
    observer.join()


def spin() -> None:
    while True:
        sum(range(10_000))


def child(library: str, root: str, busy: bool) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if busy:  # a Python thread holding the GIL most of the time, as chunking and tokenizing do
        threading.Thread(target=spin, daemon=True).start()
    (child_watchfiles if library == "watchfiles" else child_watchdog)(root, stop)


# -- the measuring side ---------------------------------------------------------------------


class Watching:
    """A child process watching `root` with `library`; its events, as they arrive."""

    def __init__(self, library: str, root: Path, busy: bool = False) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--child", library, str(root), "busy" if busy else "-"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.events: list[list[Any]] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(30):
            raise SystemExit(f"{library} did not start")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            item = json.loads(line)
            if item == ["ready"]:
                self.ready.set()
            else:
                self.events.append(item)

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def wait_for(self, needle: str, since: int, seconds: float = 10) -> list[Any] | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for event in self.events[since:]:
                if needle in event[2]:
                    return event
            time.sleep(0.005)
        return None

    def quiet(self, seconds: float = 2.0) -> None:
        """Wait until no event has arrived for `seconds`."""
        count = -1
        while count != len(self.events):
            count = len(self.events)
            time.sleep(seconds)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


def latency(w: Watching, root: Path) -> str:
    """p50 / max milliseconds from a file written (closed) to its event delivered."""
    took = []
    for i in range(20):
        since = len(w.events)
        (root / f"latency-{i}.txt").write_text("hello\n")
        written = time.time()
        event = w.wait_for(f"latency-{i}.txt", since)
        took.append((event[0] - written) * 1000 if event else float("inf"))
        time.sleep(0.1)
    took.sort()
    return f"{took[10]:.0f} / {took[-1]:.0f}"


def burst(w: Watching, root: Path, name: str) -> str:
    """1,000 files made in ten new folders, then each edited: events delivered, distinct files
    among them, the watcher's CPU, and how long after the last write the last event came."""
    cpu, since = w.cpu(), len(w.events)
    for d in range(10):
        (root / f"{name}-{d}").mkdir()
        for i in range(100):
            (root / f"{name}-{d}" / f"f{i}.txt").write_text(f"file {d}/{i}\n")
    for d in range(10):
        for i in range(100):
            (root / f"{name}-{d}" / f"f{i}.txt").write_text(f"file {d}/{i}, edited\n")
    made = time.time()
    w.quiet(2.0)
    seen = {e[2] for e in w.events[since:] if "/f" in e[2]}
    lag = max(e[0] for e in w.events[since:]) - made
    return (
        f"{len(w.events) - since} events, {len(seen)} files, CPU {w.cpu() - cpu:.2f} s, "
        f"last event {lag:.2f} s after the last write"
    )


def measure(library: str, base: Path) -> dict[str, Any]:
    root = base / library
    root.mkdir()
    (root / "doc.txt").write_text("first version\n")
    out: dict[str, Any] = {}
    w = Watching(library, root, busy=True)
    out["latency ms p50/max, a busy Python thread beside"] = latency(w, root)
    out["burst, a busy Python thread beside"] = burst(w, root, "busy")
    w.stop()
    shutil.rmtree(root)
    root.mkdir()
    (root / "doc.txt").write_text("first version\n")

    w = Watching(library, root)
    out["latency ms p50/max"] = latency(w, root)
    w.quiet(1.0)
    out["burst: 1,000 created + edited"] = burst(w, root, "burst")

    cpu = w.cpu()
    time.sleep(10)
    out["CPU at rest, 10 s"] = f"{w.cpu() - cpu:.2f} s"

    since = len(w.events)
    tmp = root / ".doc.txt.swp"
    tmp.write_text("second version\n")
    os.replace(tmp, root / "doc.txt")
    w.quiet(1.0)
    out["atomic save (temp, os.replace)"] = [e[1:] for e in w.events[since:]]

    since = len(w.events)
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "deep.txt").write_text("made with its folders at once\n")
    out["mkdir -p a/b && write a/b/deep.txt: seen"] = bool(w.wait_for("deep.txt", since, 3))

    since = len(w.events)
    shutil.rmtree(root)
    time.sleep(1.0)
    root.mkdir()
    (root / "after.txt").write_text("written after the folder came back\n")
    event = w.wait_for("after.txt", since, 5)
    about_root = [e[1] for e in w.events[since:] if e[2] == str(root) or e[1] == "error"]
    out["folder removed: its own events"] = sorted(set(about_root))
    out["folder recreated: new file seen"] = bool(event)
    out["process alive after"] = w.proc.poll() is None
    w.stop()
    return out


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4] == "busy")
        return
    print(f"CPU: {cpu_model()}; load average {os.getloadavg()[0]:.2f}")
    versions = {}
    for library in ("watchfiles", "watchdog"):
        try:
            versions[library] = (
                __import__(library).__version__
                if library == "watchfiles"
                else (__import__("watchdog.version").version.VERSION_STRING)
            )
        except ImportError:
            raise SystemExit(f"{library} is not installed: pip install {library}") from None
    with tempfile.TemporaryDirectory() as base:
        for library in ("watchfiles", "watchdog"):
            print(f"\n== {library} {versions[library]}")
            for name, value in measure(library, Path(base)).items():
                print(f"  {name}: {value}")


if __name__ == "__main__":
    main()

"""How long `sourcebook ask` takes from a fresh process, and where the time goes.

    .venv/bin/python bench/cold_start.py "QUESTION"     # uses the index that the settings name

Prints the CPU, the wall time of `sourcebook ask` as a user runs it (median of 3 fresh
processes; target <= 3 s), then the phases of one run (CLI import, answering imports, opening
the index, the first answer, which loads the encoder) and the slowest top-level imports from
`python -X importtime`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

PHASES = """
import json, sys, time
t0 = time.monotonic()
from app.interfaces.cli import main  # the CLI itself: argparse and logging only
t1 = time.monotonic()
from app.answering.pipeline import stream_answer  # what `ask` imports
t2 = time.monotonic()
from app.library import get_index
get_index()  # the model load, Chroma and the SQLite side
t3 = time.monotonic()
final = list(stream_answer(sys.argv[1]))[-1]
t4 = time.monotonic()
mods = sys.modules
print(json.dumps({"cli": t1 - t0, "imports": t2 - t1, "open index": t3 - t2,
                  "answer": t4 - t3, "gradio imported": "gradio" in mods,
                  "LLM client imported": "openai" in mods or "langchain_openai" in mods,
                  "torch imported": "torch" in mods}))
"""


def ask_wall(question: str, runs: int = 3) -> float:
    """Median wall seconds of `sourcebook ask QUESTION`, each in a fresh process."""
    sourcebook = os.path.join(os.path.dirname(sys.executable), "sourcebook")
    times = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run([sourcebook, "ask", question], capture_output=True, check=True)
        times.append(time.monotonic() - started)
    return sorted(times)[len(times) // 2]


def phases(question: str) -> dict[str, object]:
    env = dict(os.environ)
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", PHASES, question], env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return {"total": time.monotonic() - started, **json.loads(out.stdout.splitlines()[-1])}


def slowest_imports(question: str, top: int) -> list[tuple[float, str]]:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "app.interfaces.cli", "ask", question],
        capture_output=True,
        text=True,
    )
    rows = []
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)", line)  # top level only
        if m:
            rows.append((int(m.group(1)) / 1e6, m.group(2)))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from store.machine import describe

    print(f"CPU: {describe()}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"`sourcebook ask` from a fresh process: {ask_wall(args.question):.2f} s (median of 3)")
    result = phases(args.question)
    shown = ", ".join(
        f"{k} {v:.2f} s" if isinstance(v, float) else f"{k}: {v}" for k, v in result.items()
    )
    print(f"phases of one run: {shown}")
    print("slowest top-level imports of `sourcebook ask` (python -X importtime, cumulative):")
    for seconds, name in slowest_imports(args.question, 8):
        print(f"  {seconds:6.2f} s  {name}")


if __name__ == "__main__":
    main()

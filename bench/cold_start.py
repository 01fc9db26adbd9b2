"""Where `sourcebook ask` spends its start-up time, from a fresh process, phase by phase.

    .venv/bin/python bench/cold_start.py "QUESTION"     # uses the index that the settings name

Prints wall seconds per phase (interpreter, imports, model load, first answer) for each
backend given with --backends, each in a fresh process, plus the slowest top-level imports
from `python -X importtime`.
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
                  "LLM client imported": "openai" in mods or "langchain_openai" in mods}))
"""


def phases(question: str, backend: str) -> dict[str, object]:
    env = {**os.environ, "SOURCEBOOK_EMBEDDING_BACKEND": backend}
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
    parser.add_argument("--backends", nargs="+", default=["torch", "openvino-int8"])
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for backend in args.backends:
        result = phases(args.question, backend)
        shown = ", ".join(
            f"{k} {v:.2f} s" if isinstance(v, float) else f"{k}: {v}" for k, v in result.items()
        )
        print(f"{backend}: {shown}")
    print("slowest top-level imports of `sourcebook ask` (python -X importtime, cumulative):")
    for seconds, name in slowest_imports(args.question, 8):
        print(f"  {seconds:6.2f} s  {name}")


if __name__ == "__main__":
    main()

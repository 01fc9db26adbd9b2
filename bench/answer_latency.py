"""Answer latency of the default (extractive) answerer, the reader included, once loaded: p50/p95
over the sample questions (app/sample_questions.jsonl), on an index of the bundled corpus.

    .venv/bin/python bench/answer_latency.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(
    0, str(REPO)
)  # run as a script from bench/: import the project, not bench/ingest.py

from app import answer, ingest  # noqa: E402
from app.evaluation import SAMPLE_QUESTIONS as QUESTIONS  # noqa: E402
from app.settings import Settings  # noqa: E402
from store.machine import describe  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), folder=REPO / "corpus")
        ingest(settings=settings)
        rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines()]
        answer("warm up", settings=settings)
        times = []
        for row in rows:
            history = [{"role": "user", "content": h} for h in row.get("history", [])]
            started = time.perf_counter()
            answer(row["question"], history, settings=settings)
            times.append(time.perf_counter() - started)
    times.sort()
    print(f"CPU: {describe()}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(
        f"answer latency over {len(times)} questions ({settings.embedding_backend}): "
        f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {times[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()

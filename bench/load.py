"""Load benchmark: 8 simulated users asking through the app's HTTP API while an ingest runs.

    .venv/bin/python bench/load.py --small     # CI-sized: 8 users x 3 questions
    .venv/bin/python bench/load.py             # by hand: 8 users x 25 questions
    .venv/bin/python bench/load.py --store disk    # Chroma on disk instead of a Chroma server

Bounded: a fixed number of requests, to 127.0.0.1 only, then everything stops. `sourcebook
serve` runs over a copy of the bundled corpus; each user asks the `/ask` endpoint (gradio_client)
its share of a fixed question list, while a separate `sourcebook ingest` process adds unrelated
documents (Debian's Python HTML documentation) to the same index. Figures: p50/p95 latency,
errors (must be 0), answers identical to the same questions asked alone before the load, and
the server's RSS before and after each round (later identical rounds show whether it keeps
growing).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(
    0, str(REPO)
)  # run as a script from bench/: import the project, not bench/ingest.py
BIN = Path(sys.executable).parent
OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
}
PYDOC = Path("/usr/share/doc/python3.11/html")
USERS = 8


def questions() -> list[str]:
    """The sample questions about the bundled corpus, then the chat window's examples."""
    from app.evaluation import SAMPLE_QUESTIONS
    from app.library import EXAMPLE_QUESTIONS

    found = [json.loads(line)["question"] for line in SAMPLE_QUESTIONS.read_text().splitlines()]
    return found + [
        *EXAMPLE_QUESTIONS,
        "Who won the 2014 Nobel Prize in Literature?",
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server for {url} exited")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {seconds} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def same_answer(reply: dict[str, Any]) -> tuple[Any, ...]:
    """What must not change under load: the text, and each citation's source and span."""
    spans = tuple((c["source"], c["start"], c["end"], c["quote"]) for c in reply["citations"])
    return reply["answer"], reply["answered"], spans


def ask_round(url: str, asks: list[str]) -> tuple[list[float], list[str], dict[int, Any]]:
    """USERS clients at once, each asking its share of `asks`; latencies, errors, replies."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    replies: dict[int, Any] = {}
    lock = threading.Lock()

    def user(u: int) -> None:
        client = Client(url, verbose=False)
        for n in range(u, len(asks), USERS):
            started = time.perf_counter()
            try:
                reply = client.predict(asks[n], [], api_name="/ask")
            except Exception as e:  # the benchmark's edge: count it, keep going
                with lock:
                    errors.append(f"{asks[n]!r}: {type(e).__name__}: {e}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                replies[n] = reply

    with ThreadPoolExecutor(USERS) as pool:
        list(pool.map(user, range(USERS)))
    return latencies, errors, replies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def extra_documents(folder: Path, count: int) -> None:
    """Unrelated real documents for the concurrent ingest to add."""
    if not PYDOC.is_dir():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "python3.11-doc"], env=env, check=True)
    folder.mkdir()
    for path in sorted(PYDOC.glob("library/*.html"))[:count]:
        shutil.copyfile(path, folder / path.name)


def start_chroma(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "chroma"),
            "run",
            "--path",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, 60)
    return proc, f"http://127.0.0.1:{port}"


def report(name: str, latencies: list[float], errors: list[str], seconds: float) -> None:
    print(
        f"  {name}: {len(latencies) + len(errors)} requests in {seconds:.1f} s, "
        f"p50 {percentile(latencies, 50):.2f} s, p95 {percentile(latencies, 95):.2f} s, "
        f"errors {len(errors)}"
    )
    for e in errors[:5]:
        print(f"    error: {e}")


def run(work: Path, per_user: int, store: str, rounds: int) -> int:
    docs, home = work / "docs", work / "home"
    shutil.copytree(REPO / "corpus", docs)
    env = {**os.environ, **OFFLINE, "SOURCEBOOK_HOME": str(home), "SOURCEBOOK_FOLDER": str(docs)}
    procs: list[subprocess.Popen[bytes]] = []
    if store == "server":
        chroma, url = start_chroma(work / "chroma")
        procs.append(chroma)
        env["SOURCEBOOK_CHROMA_URL"] = url
    try:
        subprocess.run(
            [str(BIN / "sourcebook"), "ingest"], env=env, check=True, capture_output=True
        )
        port = free_port()
        serve = subprocess.Popen(
            [str(BIN / "sourcebook"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(work / "serve.log").open("wb"),
        )
        procs.append(serve)
        app = f"http://127.0.0.1:{port}/"
        wait_http(app, serve)
        return measure(app, serve, env, docs, per_user, work, rounds)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)


def measure(
    app: str, serve: subprocess.Popen[bytes], env: dict[str, str], docs: Path, per_user: int,
    work: Path, rounds: int,
) -> int:  # fmt: skip
    base = questions()
    asks = [base[n % len(base)] for n in range(USERS * per_user)]
    from gradio_client import Client

    alone_client = Client(app, verbose=False)
    alone = {q: same_answer(alone_client.predict(q, [], api_name="/ask")) for q in base}
    rss_before = rss_mb(serve.pid)
    print(f"\n== {USERS} users x {per_user} questions, {len(base)} distinct; server RSS "
          f"{rss_before:.0f} MB after warm-up")  # fmt: skip

    extra_documents(docs / "python-docs", 40)
    ingest = subprocess.Popen(
        [str(BIN / "sourcebook"), "ingest", "--json"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.monotonic()
    latencies, errors, replies = ask_round(app, asks)
    seconds = time.monotonic() - started
    ingest_running = ingest.poll() is None
    out, _ = ingest.communicate(timeout=1800)
    ingested = json.loads(out) if ingest.returncode in (0, 3) else {}
    report("during the ingest", latencies, errors, seconds)
    print(f"    ingest still running when the last answer came: {ingest_running}; it added "
          f"{ingested.get('added', '?')} files, {ingested.get('chunks_added', '?')} chunks "
          f"(exit {ingest.returncode})")  # fmt: skip
    differ = [asks[n] for n, r in replies.items() if same_answer(r) != alone[asks[n]]]
    print(f"    answers identical to the same question asked alone: "
          f"{len(replies) - len(differ)}/{len(replies)}")  # fmt: skip
    for q in sorted(set(differ))[:5]:
        print(f"    differs: {q}")
    rss = [rss_before, rss_mb(serve.pid)]
    for n in range(2, rounds + 1):
        started = time.monotonic()
        more, more_errors, _ = ask_round(app, asks)
        report(f"round {n}, no ingest", more, more_errors, time.monotonic() - started)
        errors += more_errors
        rss.append(rss_mb(serve.pid))
    print("  server RSS (MB): before " + ", ".join(
        f"{r:.0f}" if n == 0 else f"after round {n}: {r:.0f}" for n, r in enumerate(rss)
    ))  # fmt: skip
    traceback = "Traceback" in (work / "serve.log").read_text()
    print(f"  tracebacks in the server log: {'yes' if traceback else 'none'}")
    return 1 if errors or differ or traceback else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CI-sized run")
    parser.add_argument("--per-user", type=int, help="questions per user")
    parser.add_argument("--store", choices=["server", "disk"], default="server")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (the first during ingest)")
    args = parser.parse_args()
    per_user = args.per_user or (3 if args.small else 25)
    with tempfile.TemporaryDirectory(prefix="sb-load-") as tmp:
        sys.exit(run(Path(tmp), per_user, args.store, args.rounds))


if __name__ == "__main__":
    main()

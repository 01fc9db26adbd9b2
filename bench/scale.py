"""Scale benchmark: memory while ingesting thousands of real files, and search latency at
100,000 chunks on disk and against a Chroma server, with how the BM25 half scales.

    .venv/bin/python bench/scale.py --small    # CI-sized: 50 and 100 files; 10,000 chunks
    .venv/bin/python bench/scale.py            # by hand: 5,000 and 10,285 files; 100,000 chunks

Files are real text: the HTML of Debian's documentation packages (installed with apt-get if
missing). Each ingest runs in its own process, so each peak RSS is that ingest's alone; if the
pipeline streams documents and embeds them in batches, the peak stays flat as the corpus doubles.

Search at 100,000 chunks: embedding 100,000 chunks here takes over an hour, so the chunks are
inserted through the store directly. Their *text* is real (cut from the same documentation,
~900 characters each, so BM25 sees real term statistics); their *vectors* are real embeddings
of the first 2,000 chunks (500 with --small), reused for the rest with a little Gaussian noise (normalised), so
Chroma's HNSW graph has the size and shape of a real one. Queries are embedded for real.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PYTHON = sys.executable
SOURCEBOOK = str(Path(PYTHON).parent / "sourcebook")
# Debian's documentation packages: ~10,300 HTML files between them (Debian 12).
PACKAGES = [
    "python3.11-doc",
    "postgresql-doc-15",
    "debian-handbook",
    "python-django-doc",
    "python-sqlalchemy-doc",
    "python-pandas-doc",
    "git-doc",
]
DOC_DIRS = [
    Path("/usr/share/doc/python3.11/html"),
    Path("/usr/share/doc/postgresql-doc-15/html"),
    Path("/usr/share/doc/debian-handbook/html"),
    Path("/usr/share/doc/python-django-doc"),
    Path("/usr/share/doc/python-sqlalchemy-doc"),
    Path("/usr/share/doc/python-pandas-doc"),
    Path("/usr/share/doc/git-doc"),
]
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
QUERIES = [
    "How do I create an index on a table?",
    "What does the with statement do?",
    "How to configure a network interface with a static address",
    "difference between a list and a tuple",
    "How does VACUUM reclaim storage?",
    "What is a generator expression?",
    "How do I install a package with apt?",
    "transaction isolation levels",
    "How to read a file line by line",
    "What is the global interpreter lock?",
    "How do I back up a database with pg_dump?",
    "configure the firewall with iptables",
    "What does the asyncio event loop do?",
    "How to write a regular expression that matches an email address",
    "What is a foreign key constraint?",
    "How to set up a mail server with Postfix",
    "decorators with arguments",
    "How are dictionaries ordered?",
    "What is write-ahead logging?",
    "How do I add a user to a group?",
    "unicode strings and encodings",
    "How do I join two tables?",
    "What is a virtual environment?",
    "How to mount a file system at boot",
    "exceptions and tracebacks",
    "How does the query planner choose a plan?",
    "What is the difference between is and ==?",
    "How to schedule a job with cron",
    "What are window functions?",
    "How to parse command line arguments",
    "How to configure Apache virtual hosts",
    "What is a context manager?",
    "How does replication work?",
    "What does the subprocess module do?",
    "How to sign packages with GnuPG",
    "What is a sequence in SQL?",
    "logging configuration from a file",
    "How to share a printer on the network",
    "What is a JSONB column?",
    "How to measure execution time of small code snippets",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:7.1f} ms   p95 {percentile(values, 95) * 1000:7.1f} ms"
    )


def doc_files(packages: int) -> list[Path]:
    """Every HTML file of the first `packages` documentation packages, installed with apt-get
    if missing."""
    names, dirs = PACKAGES[:packages], DOC_DIRS[:packages]
    if not all(d.is_dir() for d in dirs):
        print(f"installing {' '.join(names)} with apt-get ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *names]
        subprocess.run(apt, env=env, check=True)
    files = [p for d in dirs for p in sorted(d.rglob("*.htm*")) if p.is_file()]
    print(f"documentation: {len(files)} HTML files in {', '.join(str(d) for d in dirs)}")
    return files


def spread(files: list[Path], n: int) -> list[Path]:
    """`n` files taken evenly across the packages (a fixed choice, the same every run)."""
    rng = random.Random(5)
    return sorted(rng.sample(files, min(n, len(files))))


def copy_corpus(files: list[Path], folder: Path) -> None:
    """Real copies (links out of the folder are not ingested), keeping each package's tree."""
    for path in files:
        target = folder / path.relative_to("/usr/share/doc")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


# -- 1. memory while ingesting


def measured_ingest(home: Path, folder: Path) -> dict[str, Any]:
    """`sourcebook ingest --json` in a fresh process: its report, wall time and peak RSS."""
    env = {**os.environ, **OFFLINE, "SOURCEBOOK_HOME": str(home), "SOURCEBOOK_FOLDER": str(folder)}
    started = time.monotonic()
    proc = subprocess.Popen(
        [SOURCEBOOK, "ingest", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 3):  # 3: some files skipped
        raise SystemExit(f"ingest of {folder} failed")
    return {**json.loads(out), "wall": time.monotonic() - started, "rss": usage.ru_maxrss / 1024}


def bench_ingest_memory(files: list[Path], sizes: list[int], work: Path) -> None:
    print("\n== ingest: peak RSS as the corpus doubles (each ingest its own process)")
    for n in sizes:
        folder, home = work / f"docs-{n}", work / f"home-{n}"
        chosen = spread(files, n)
        copy_corpus(chosen, folder)
        r = measured_ingest(home, folder)
        done = r["added"] + r["updated"] + r["unchanged"]
        print(
            f"  {len(chosen):6d} files: {done} ingested, {len(r['skipped'])} skipped, "
            f"{r['chunks_added']} chunks, {r['seconds']:.0f} s "
            f"({r['chunks_added'] / max(r['seconds'], 1e-9):.1f} chunks/s), "
            f"peak RSS {r['rss']:.0f} MB"
        )
        shutil.rmtree(folder)
        shutil.rmtree(home)


# -- 2. search at N chunks


def real_chunks(files: list[Path], size: int = 900) -> Iterator[tuple[str, str]]:
    """(source, text) windows of ~`size` characters cut from the documents' extracted text."""
    from ingest import LoadError, load

    for path in files:
        try:
            text = load(path, path.read_bytes()).text
        except LoadError:
            continue
        source = path.relative_to("/usr/share/doc").as_posix()
        for start in range(0, len(text) - size // 3, size):
            yield source, text[start : start + size]


def make_chunks(files: list[Path], total: int, model: Any, base: int) -> dict[str, Any]:
    """`total` chunks of real text; real vectors for the first `base`, noisy copies after."""
    import numpy as np

    texts: list[tuple[str, str]] = []
    while len(texts) < total:  # cycle through the documents if they hold fewer windows
        for item in real_chunks(files):
            texts.append(item)
            if len(texts) >= total:
                break
    started = time.monotonic()
    real = np.asarray(model.embed_documents([t for _, t in texts[:base]]), dtype=np.float32)
    print(f"  embedded {len(real)} real chunks in {time.monotonic() - started:.0f} s")
    rng = np.random.default_rng(7)
    vectors = real[np.arange(total) % len(real)] + rng.normal(0, 0.02, (total, real.shape[1]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return {"texts": texts, "vectors": vectors.astype(np.float32)}


def fill(index: Any, chunks: dict[str, Any], batch: int = 5000) -> list[tuple[int, float]]:
    """Insert the chunks into Chroma and SQLite; (chunks so far, milliseconds per chunk for
    both halves) for each batch, to show the index grows incrementally."""
    from langchain_core.documents import Document

    costs = []
    texts, vectors = chunks["texts"], chunks["vectors"]
    for lo in range(0, len(texts), batch):
        part = texts[lo : lo + batch]
        ids = [f"bench-{i}" for i in range(lo, lo + len(part))]
        docs = [
            Document(
                page_content=t,
                metadata={"source": s, "doc_hash": "bench", "start": 0, "end": len(t), "title": s},
            )
            for s, t in part
        ]
        started = time.monotonic()
        index.add_embedded(ids, docs, vectors[lo : lo + len(part)].tolist())
        costs.append((lo + len(part), (time.monotonic() - started) / len(part) * 1000))
    index.begin_ingest(Path("/usr/share/doc"))
    return costs


def timed(fn: Callable[[str], object], queries: list[str], rounds: int = 3) -> list[float]:
    for q in queries[:3]:
        fn(q)  # warm-up
    out = []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            fn(q)
            out.append(time.perf_counter() - started)
    return out


def bench_search(name: str, index: Any, chunks: dict[str, Any]) -> None:
    from store import search

    print(f"\n== search, {name}: filling {len(chunks['texts']):,} chunks")
    started = time.monotonic()
    costs = fill(index, chunks)
    print(f"  filled in {time.monotonic() - started:.0f} s")
    first, last = costs[0], costs[-1]
    print(
        f"  insert (Chroma + SQLite/FTS5): {first[1]:.3f} ms per chunk up to {first[0]:,} chunks, "
        f"{last[1]:.3f} ms per chunk up to {last[0]:,} (incremental: no rebuild)"
    )
    vectors = {q: index.embeddings.embed_query(q) for q in QUERIES}
    print(f"  {len(QUERIES)} fixed queries x 3 rounds, k=6:")
    print(
        f"    hybrid search (query embedded) {ms(timed(lambda q: search(index, q, k=6), QUERIES))}"
    )
    hybrid = timed(lambda q: search(index, q, k=6, vector=vectors[q]), QUERIES)
    print(f"    hybrid search (vector given)   {ms(hybrid)}")
    dense = timed(lambda q: index.nearest(vectors[q], 24), QUERIES)
    print(f"    dense half (Chroma)            {ms(dense)}")
    keyword = timed(lambda q: index.keyword_search(q, 24), QUERIES)
    print(f"    keyword half (FTS5 BM25)       {ms(keyword)}")


def bm25_cold_start(db: Path) -> None:
    """A new process opens the keyword index and answers its first query: nothing is rebuilt."""
    code = (
        "import sys, time; from pathlib import Path; from store.textdb import TextDB;"
        "t = time.perf_counter(); db = TextDB(Path(sys.argv[1]));"
        "db.keyword_search('replication write-ahead log', 6);"
        "print(f'{(time.perf_counter() - t) * 1000:.1f}')"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([PYTHON, "-c", code, str(db)], capture_output=True, text=True, env=env)
    chunks = _count(db)
    print(
        f"  BM25 cold start (new process, after imports: open + first query) at {chunks:,} chunks: "
        f"{out.stdout.strip()} ms"
    )


def _count(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as c:
        return int(c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])


def start_chroma(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(Path(PYTHON).parent / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(150):
        if proc.poll() is not None:
            raise SystemExit("chroma run exited")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    raise SystemExit("chroma run did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CI-sized run")
    parser.add_argument("--files", help="two corpus sizes, e.g. 5000,10000")
    parser.add_argument("--chunks", type=int, help="chunks for the search benchmark")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    sizes = [int(n) for n in (args.files or ("50,100" if args.small else "5000,20000")).split(",")]
    total = args.chunks or (10_000 if args.small else 100_000)
    os.environ.update(OFFLINE)
    warnings.filterwarnings("ignore")  # bs4 on XHTML pages; the loaders' business, not ours

    from app.interfaces.cli import quiet_libraries
    from store import IndexConfig, load_model, open_index

    quiet_libraries(verbose=False)
    files = doc_files(2 if args.small else len(PACKAGES))  # --small: python and postgresql
    with tempfile.TemporaryDirectory(prefix="sb-scale-") as tmp:
        work = Path(tmp)
        if not args.skip_ingest:
            bench_ingest_memory(files, sizes, work)
        model = load_model("all-MiniLM-L6-v2", "torch")
        disk = open_index(IndexConfig(work / "disk", "all-MiniLM-L6-v2", 200, 32), model=model)
        base = 500 if args.small else 2000
        chunks = make_chunks(spread(files, len(files)), total, model, base)
        bench_search("Chroma on disk", disk, chunks)
        bm25_cold_start(work / "disk" / "sourcebook.sqlite")
        proc, url = start_chroma(work / "chroma-server")
        try:
            config = IndexConfig(work / "server", "all-MiniLM-L6-v2", 200, 32, chroma_url=url)
            bench_search(f"Chroma server ({url})", open_index(config, model=model), chunks)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()

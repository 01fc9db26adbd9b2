"""Scale benchmark: memory while ingesting thousands of real files, and search latency as the
index grows, on disk and against a Chroma server, with the keyword half as it is now (tantivy)
beside FTS5 as it was, on the same chunks in the same run.

    .venv/bin/python bench/scale.py --small    # CI-sized: 50 and 100 files; 10,000 chunks
    .venv/bin/python bench/scale.py            # by hand: 5,000 and 10,285 files; 100,000 chunks
    .venv/bin/python bench/scale.py --skip-ingest --curve            # 10k, 100k, 300k chunks
    .venv/bin/python bench/scale.py --skip-ingest --curve --million  # ... and 1,000,000

Files are real text: the HTML of Debian's documentation packages (installed with apt-get if
missing). Each ingest runs in its own process, so each peak RSS is that ingest's alone; if the
pipeline streams documents and embeds them in batches, the peak stays flat as the corpus doubles.

Search at N chunks: embedding 100,000 chunks here takes over an hour, so the chunks are
inserted through the store directly (the same add path as an ingest: Chroma, the SQLite chunk
table, the keyword index). Their *text* is real (cut from the same documentation, ~900
characters each, so BM25 sees real term statistics; past the ~80,000 windows the documents hold,
they are cut again at other offsets, see debian_docs.py); their *vectors* are real embeddings of
the first 2,000 chunks (500 with --small), reused for the rest with a little Gaussian noise
(normalised), so Chroma's HNSW graph has the size and shape of a real one. Queries are
embedded for real. The old keyword half is bench/keyword_index.py's copy of the FTS5 table and
query that store/textdb.py had before tantivy, filled with the same chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from debian_docs import (  # noqa: E402
    PACKAGES,
    QUERIES,
    cpu_line,
    doc_files,
    ms,
    percentile,
    spread,
    text_windows,
)
from keyword_index import FTS5_OLD as FTS5_OLD_SQL  # noqa: E402
from keyword_index import Fts5  # noqa: E402

PYTHON = sys.executable
SOURCEBOOK = str(Path(PYTHON).parent / "sourcebook")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
DEPTH = 24  # what store/search.py asks each half for at k=6


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


class Chunks:
    """`total` chunks of real text; real vectors for the first `base`, noisy copies after (made
    batch by batch: a million 384-d vectors at once would take gigabytes)."""

    def __init__(self, files: list[Path], total: int, model: Any, base: int) -> None:
        import numpy as np

        self.texts = text_windows(files, total)
        started = time.monotonic()
        self.real = np.asarray(
            model.embed_documents([t for _, t in self.texts[:base]]), dtype=np.float32
        )
        print(f"  embedded {len(self.real)} real chunks in {time.monotonic() - started:.0f} s")

    def vectors(self, lo: int, hi: int) -> Any:
        import numpy as np

        rng = np.random.default_rng(lo)
        out = self.real[np.arange(lo, hi) % len(self.real)] + rng.normal(
            0, 0.02, (hi - lo, self.real.shape[1])
        )
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out.astype(np.float32)


def fill(index: Any, chunks: Chunks, lo: int, hi: int, old: Fts5 | None) -> tuple[float, float]:
    """Insert chunks lo..hi through the store's add path (Chroma, chunk table, keyword index),
    and into the old FTS5 table; milliseconds per chunk for each."""
    from langchain_core.documents import Document

    spent_new = spent_old = 0.0
    for start in range(lo, hi, 5000):
        part = chunks.texts[start : min(hi, start + 5000)]
        ids = [f"bench-{i}" for i in range(start, start + len(part))]
        docs = [
            Document(
                page_content=t,
                metadata={"source": s, "doc_hash": "bench", "start": 0, "end": len(t), "title": s},
            )
            for s, t in part
        ]
        vectors = chunks.vectors(start, start + len(part)).tolist()
        started = time.perf_counter()
        index.add_embedded(ids, docs, vectors)
        spent_new += time.perf_counter() - started
        if old is not None:
            started = time.perf_counter()
            old.add([(i, s, t) for i, (s, t) in zip(ids, part, strict=True)])
            spent_old += time.perf_counter() - started
    index.begin_ingest(Path("/usr/share/doc"))
    return spent_new / (hi - lo) * 1000, spent_old / (hi - lo) * 1000


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


def cpu_timed(fn: Callable[[str], object], queries: list[str], rounds: int = 3) -> list[float]:
    """This thread's CPU time per query: what a query costs, without the time spent waiting for
    a core on a loaded machine (both keyword halves run in the calling thread)."""
    out = []
    for _ in range(rounds):
        for q in queries:
            used = time.thread_time()
            fn(q)
            out.append(time.thread_time() - used)
    return out


class OldKeywordHalf:
    """The index as search() sees it, with the keyword half answered by FTS5 as before."""

    def __init__(self, index: Any, old: Fts5) -> None:
        self.index, self.old = index, old
        self.embeddings = index.embeddings

    def nearest(self, vector: list[float], k: int, sources: list[str] | None = None) -> Any:
        return self.index.nearest(vector, k, sources)

    def keyword_search(self, query: str, k: int, sources: list[str] | None = None) -> Any:
        return [(cid, 0.0) for cid in self.old.old(query, k)]

    def chunks(self, chunk_ids: list[str]) -> Any:
        return self.index.chunks(chunk_ids)


def side_by_side(label: str, new: list[float], old: list[float] | None) -> None:
    line = f"    {label:<30} now (tantivy) {ms(new)}"
    if old is not None:
        ratio = percentile(old, 95) / max(percentile(new, 95), 1e-9)
        line += f"   before (FTS5) {ms(old)}   p95 ratio {ratio:.1f}x"
    print(line)


def measure_search(index: Any, old: Fts5 | None, home: Path) -> None:
    from store import search

    vectors = {q: index.embeddings.embed_query(q) for q in QUERIES}
    print(f"  {len(QUERIES)} fixed queries x 3 rounds, k=6 ({DEPTH} asked of each half):")
    hybrid = timed(lambda q: search(index, q, k=6, vector=vectors[q]), QUERIES)
    keyword = timed(lambda q: index.keyword_search(q, DEPTH), QUERIES)
    hybrid_old = keyword_old = None
    if old is not None:
        proxy = OldKeywordHalf(index, old)
        hybrid_old = timed(lambda q: search(proxy, q, k=6, vector=vectors[q]), QUERIES)  # type: ignore[arg-type]
        keyword_old = timed(lambda q: old.old(q, DEPTH), QUERIES)
    side_by_side("hybrid search (vector given)", hybrid, hybrid_old)
    side_by_side("keyword half", keyword, keyword_old)
    keyword_cpu = cpu_timed(lambda q: index.keyword_search(q, DEPTH), QUERIES)
    keyword_old_cpu = None if old is None else cpu_timed(lambda q: old.old(q, DEPTH), QUERIES)
    side_by_side("keyword half, CPU time", keyword_cpu, keyword_old_cpu)
    dense = timed(lambda q: index.nearest(vectors[q], DEPTH), QUERIES)
    print(f"    {'dense half (Chroma)':<30} {ms(dense)}")
    embedded = timed(lambda q: search(index, q, k=6), QUERIES, rounds=1)
    print(f"    {'hybrid search, query embedded':<30} {ms(embedded)}")


def cold_start(home: Path, old: Fts5 | None) -> None:
    """A new process opens the keyword index and answers its first query: nothing is rebuilt."""
    code = (
        "import sys, time; from pathlib import Path; from store.keyword import KeywordIndex;"
        "from store.textdb import TextDB; home = Path(sys.argv[1]);"
        "t = time.perf_counter(); db = TextDB(home / 'sourcebook.sqlite');"
        "KeywordIndex(home, db).search('replication write-ahead log', 24);"
        "print(f'{(time.perf_counter() - t) * 1000:.1f}')"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    new = subprocess.run([PYTHON, "-c", code, str(home)], capture_output=True, text=True, env=env)
    line = "  cold start (new process, after imports: open + first keyword query): "
    line += f"now {new.stdout.strip()} ms"
    if old is not None:
        code = (
            "import sys, sqlite3, time; t = time.perf_counter(); db = sqlite3.connect(sys.argv[1]);"
            "db.execute(sys.argv[2], (sys.argv[3], 24)).fetchall();"
            "print(f'{(time.perf_counter() - t) * 1000:.1f}')"
        )
        match = '"replication" OR "write" OR "ahead" OR "log"'
        was = subprocess.run(
            [PYTHON, "-c", code, str(old.path), FTS5_OLD_SQL, match], capture_output=True, text=True
        )
        line += f", before {was.stdout.strip()} ms"
    print(line)


def disk(home: Path, old: Fts5 | None) -> None:
    from store.keyword import FOLDER

    keyword = sum(p.stat().st_size for p in (home / FOLDER).rglob("*") if p.is_file()) / 1e6
    line = f"  keyword index on disk: now {keyword:.1f} MB (tantivy)"
    if old is not None:
        line += f", before {old.index_mb():.1f} MB (FTS5 tables)"
    print(line)


def bench_search(
    name: str, index: Any, chunks: Chunks, sizes: list[int], home: Path, old: Fts5 | None
) -> None:
    print(f"\n== search, {name}")
    done = index.counts()[1]
    for size in sizes:
        started = time.monotonic()
        new_cost, old_cost = fill(index, chunks, done, size, old)
        done = size
        print(f"\n  {size:,} chunks (filled in {time.monotonic() - started:.0f} s; {cpu_line()})")
        line = f"  insert per chunk: now {new_cost:.3f} ms (Chroma + chunk table + tantivy)"
        if old is not None:
            line += f"; the FTS5 table as before, alone: {old_cost:.3f} ms (chunk rows + FTS5)"
        print(line)
        measure_search(index, old, home)
        cold_start(home, old)
        disk(home, old)


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
    parser.add_argument("--curve", action="store_true", help="search at 10k, 100k, 300k chunks")
    parser.add_argument("--million", action="store_true", help="and at 1,000,000 (with --curve)")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-server", action="store_true", help="no Chroma-server run")
    args = parser.parse_args()
    sizes = [int(n) for n in (args.files or ("50,100" if args.small else "5000,20000")).split(",")]
    chunk_sizes = [args.chunks or (10_000 if args.small else 100_000)]
    if args.curve:
        chunk_sizes = [10_000, 100_000, 300_000] + ([1_000_000] if args.million else [])
    os.environ.update(OFFLINE)
    warnings.filterwarnings("ignore")  # bs4 on XHTML pages; the loaders' business, not ours

    from app.interfaces.cli import quiet_libraries
    from store import IndexConfig, load_model, open_index

    quiet_libraries(verbose=False)
    print(cpu_line())
    files = doc_files(2 if args.small else len(PACKAGES))  # --small: python and postgresql
    with tempfile.TemporaryDirectory(prefix="sb-scale-") as tmp:
        work = Path(tmp)
        if not args.skip_ingest:
            bench_ingest_memory(files, sizes, work)
        model = load_model("all-MiniLM-L6-v2", "torch")
        base = 500 if args.small else 2000
        chunks = Chunks(spread(files, len(files)), max(chunk_sizes), model, base)
        home = work / "disk"
        on_disk = open_index(IndexConfig(home, "all-MiniLM-L6-v2", 200, 32), model=model)
        bench_search("Chroma on disk", on_disk, chunks, chunk_sizes, home, Fts5(work / "fts5"))
        on_disk.close()
        if args.skip_server:
            return
        proc, url = start_chroma(work / "chroma-server")
        try:
            home = work / "server"
            config = IndexConfig(home, "all-MiniLM-L6-v2", 200, 32, chroma_url=url)
            server = open_index(config, model=model)
            bench_search(f"Chroma server ({url})", server, chunks, chunk_sizes[-1:], home, None)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()

"""Keyword search candidates side by side, on the same chunks and the same queries, as the index
grows: SQLite FTS5 as Sourcebook used it before (BM25 over an OR of the query's words), two other
uses of FTS5, bm25s, and tantivy as the store now uses it (store/keyword.py).

    .venv/bin/python bench/keyword_index.py --small          # 10,000 chunks
    .venv/bin/python bench/keyword_index.py                  # 10k, 100k, 300k chunks
    .venv/bin/python bench/keyword_index.py --million        # ... and 1,000,000
    (bm25s is rebuilt whole at each size, so it stops at --bm25s-upto, 300,000 by default)
    (bm25s is in the `bench` extra: pip install -e .[bench])

Chunks are real text (~900 characters cut from Debian's documentation, see debian_docs.py),
added in batches of 5,000 as an ingest would add them. For each size it prints, per candidate:
query p50/p95 in wall time and in CPU time of the querying thread (the 24 best chunks, the depth
hybrid search asks for), insert cost per chunk,
a new process's first query (open + query, after imports) and the memory that adds (peak RSS
over the RSS after imports), the size on disk,
and how many of its 24 results today's FTS5 query also returns.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from debian_docs import QUERIES, cpu_line, doc_files, percentile, spread, text_windows  # noqa: E402

from store.words import FUNCTION_WORDS, INDEX_WORD  # noqa: E402

DEPTH = 24  # what store/search.py asks each half for at k=6
BATCH = 5_000

# The chunk table and FTS5 index of Sourcebook before tantivy (store/textdb.py, commit b76059d).
FTS5_SCHEMA = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE chunks (rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL,
    source TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX chunks_source ON chunks(source);
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, content='chunks', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.rowid, new.text); END;
"""
FTS5_OLD = (
    "SELECT chunks.chunk_id, bm25(chunks_fts) AS s FROM chunks_fts "
    "JOIN chunks ON chunks.rowid = chunks_fts.rowid WHERE chunks_fts MATCH ? ORDER BY s LIMIT ?"
)
# FTS5's own top-k path (`ORDER BY rank LIMIT` on the virtual table alone), ids joined after.
FTS5_TOPK = (
    "SELECT chunks.chunk_id, r.rank FROM (SELECT rowid, rank FROM chunks_fts "
    "WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?) AS r JOIN chunks ON chunks.rowid = r.rowid "
    "ORDER BY r.rank"
)


def query_words(query: str) -> list[str]:
    words = [w for w in INDEX_WORD.findall(query.lower()) if w not in FUNCTION_WORDS]
    return list(dict.fromkeys(words))


def fts5_match(words: list[str], op: str) -> str:
    return f" {op} ".join('"' + w.replace('"', "") + '"' for w in words)


class Fts5:
    """One FTS5 database; the three FTS5 candidates query it differently."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        self.path = folder / "fts5.sqlite"
        self.conn = sqlite3.connect(self.path)
        self.conn.executescript(FTS5_SCHEMA)

    def index_mb(self) -> float:
        """The FTS5 index's own pages (its shadow tables), not the chunk table's."""
        sql = "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE 'chunks_fts%'"
        return int(self.conn.execute(sql).fetchone()[0]) / 1e6

    def add(self, rows: list[tuple[str, str, str]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT INTO chunks (chunk_id, source, text) VALUES (?, ?, ?)", rows
            )

    def old(self, query: str, k: int) -> list[str]:
        words = query_words(query)
        if not words:
            return []
        return [r[0] for r in self.conn.execute(FTS5_OLD, (fts5_match(words, "OR"), k))]

    def topk(self, query: str, k: int) -> list[str]:
        words = query_words(query)
        if not words:
            return []
        return [r[0] for r in self.conn.execute(FTS5_TOPK, (fts5_match(words, "OR"), k))]

    def and_first(self, query: str, k: int) -> list[str]:
        """Chunks holding every word first (few, so cheap), the OR query only if they are fewer
        than k: not the same ranking as BM25 over the OR, but the one a user may accept."""
        words = query_words(query)
        if not words:
            return []
        found = [r[0] for r in self.conn.execute(FTS5_TOPK, (fts5_match(words, "AND"), k))]
        return found if len(found) >= k else self.topk(query, k)


class Bm25s:
    """bm25s: a sparse matrix of precomputed BM25 scores. It has no update: every ingest that
    changes a chunk rebuilds it from every chunk's text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: list[tuple[str, str, str]] = []
        self.model: Any = None

    def add(self, rows: list[tuple[str, str, str]]) -> None:
        self.rows.extend(rows)

    def build(self) -> None:
        import bm25s
        import snowballstemmer

        stemmer = snowballstemmer.stemmer("english")
        tokens = bm25s.tokenize(
            [t for _, _, t in self.rows], stopwords="en", stemmer=stemmer, show_progress=False
        )
        self.model = bm25s.BM25(k1=1.2, b=0.75)  # FTS5's and tantivy's constants
        self.model.index(tokens, show_progress=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.model.save(str(self.folder), show_progress=False)
        (self.folder / "ids.json").write_text(json.dumps([c for c, _, _ in self.rows]))
        self.stemmer = stemmer

    def search(self, query: str, k: int) -> list[str]:
        import bm25s

        tokens = bm25s.tokenize(query, stopwords="en", stemmer=self.stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        # n_threads=0 scores in this thread; any other value starts a thread pool per call.
        docs, _ = self.model.retrieve(tokens, k=k, show_progress=False, n_threads=0)
        return [self.rows[i][0] for i in docs[0]]


class Tantivy:
    """The store's own keyword index over the store's own chunk table."""

    def __init__(self, folder: Path) -> None:
        from store.keyword import KeywordIndex
        from store.textdb import TextDB

        self.folder = folder
        self.textdb = TextDB(folder / "sourcebook.sqlite")
        self.index = KeywordIndex(folder, self.textdb)

    def add(self, rows: list[tuple[str, str, str]]) -> None:
        self.textdb.upsert_chunks(
            (cid, source, "bench", text, {"source": source}) for cid, source, text in rows
        )
        self.index.catch_up()

    def search(self, query: str, k: int) -> list[str]:
        return [cid for cid, _ in self.index.search(query, k)]


COLD = {
    "fts5": """
import sqlite3
db = sqlite3.connect(sys.argv[1] + "/fts5.sqlite")
db.execute({sql!r}, ('"replication" OR "write" OR "ahead" OR "log"', 24)).fetchall()
""",
    "bm25s": """
import bm25s, snowballstemmer, json
model = bm25s.BM25.load(sys.argv[1], mmap=True)
ids = json.loads(open(sys.argv[1] + "/ids.json").read())
q = bm25s.tokenize("replication write-ahead log", stopwords="en",
                   stemmer=snowballstemmer.stemmer("english"), show_progress=False)
model.retrieve(q, k=24, show_progress=False, n_threads=0)
""",
    "tantivy": """
from pathlib import Path
from store.keyword import KeywordIndex
from store.textdb import TextDB
home = Path(sys.argv[1])
KeywordIndex(home, TextDB(home / "sourcebook.sqlite")).search("replication write-ahead log", 24)
""",
}
IMPORTS = {"fts5": "import sqlite3", "bm25s": "import bm25s, snowballstemmer, json"}
IMPORTS["tantivy"] = "import store.keyword, store.textdb"


def cold_start(kind: str, folder: Path) -> tuple[float, float]:
    """(ms for a new process to open the index and answer a first query, after its imports;
    the memory that adds: peak RSS (VmHWM) less the RSS once imported, in MB)."""
    body = COLD[kind].format(sql=FTS5_OLD)
    code = (
        f"import sys, time\n{IMPORTS[kind]}\n"
        "def mem(key):\n"
        "    line = [l for l in open('/proc/self/status') if l.startswith(key)][0]\n"
        "    return int(line.split()[1]) / 1024\n"
        f"before = mem('VmRSS:')\nt = time.perf_counter()\n{body}\n"
        "print((time.perf_counter() - t) * 1000, mem('VmHWM:') - before)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder)], capture_output=True, text=True, env=env
    )
    if out.returncode:
        raise SystemExit(f"cold start of {kind} failed: {out.stderr}")
    took, rss = out.stdout.split()
    return float(took), float(rss)


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def timed(fn: Any, rounds: int = 3) -> tuple[list[float], list[float], dict[str, list[str]]]:
    """Wall time and this thread's CPU time of each query (every candidate runs a query in the
    calling thread; on a loaded machine the wall time's tail is mostly waiting for a core),
    and what each query returned."""
    for q in QUERIES[:3]:
        fn(q, DEPTH)  # warm-up
    wall, cpu, results = [], [], {}
    for _ in range(rounds):
        for q in QUERIES:
            started, used = time.perf_counter(), time.thread_time()
            results[q] = fn(q, DEPTH)
            cpu.append(time.thread_time() - used)
            wall.append(time.perf_counter() - started)
    return wall, cpu, results


def overlap(results: dict[str, list[str]], reference: dict[str, list[str]]) -> float:
    """Share of the reference's results that a candidate also returns, over all queries."""
    shared = sum(len(set(results[q]) & set(reference[q])) for q in reference)
    return shared / max(1, sum(len(reference[q]) for q in reference))


def row(name: str, times: tuple[list[float], list[float]], insert: str,
        cold: tuple[float, float], disk: float, agree: float) -> str:  # fmt: skip
    (wall, cpu), p = times, percentile
    return (
        f"  {name:<26} {p(wall, 50) * 1000:8.1f} {p(wall, 95) * 1000:8.1f}"
        f" {p(cpu, 50) * 1000:8.1f} {p(cpu, 95) * 1000:8.1f}  {insert:>14}"
        f"  {cold[0]:9.1f} {cold[1]:8.0f}  {disk:8.1f}  {agree:6.0%}"
    )


def measure(size: int, fts: Fts5, tan: Tantivy, bm: Bm25s | None, costs: dict[str, float]) -> None:
    print(f"\n== {size:,} chunks   ({cpu_line()})")
    print(
        f"  {'candidate':<26} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}  "
        f"{'insert/chunk':>14}  {'cold ms':>9} {'+RSS MB':>8}  {'disk MB':>8}  {'same':>6}"
    )
    old_wall, old_cpu, reference = timed(fts.old)
    fts_cold, fts_disk = cold_start("fts5", fts.path.parent), fts.index_mb()
    fts_insert = f"{costs['fts5'] * 1000:.3f} ms"
    print(row("(a) FTS5 OR (before)", (old_wall, old_cpu), fts_insert, fts_cold, fts_disk, 1.0))
    for name, fn in (("(b) FTS5 rank LIMIT", fts.topk), ("(b) FTS5 AND, then OR", fts.and_first)):
        wall, cpu, results = timed(fn)
        agree = overlap(results, reference)
        print(row(name, (wall, cpu), fts_insert, fts_cold, fts_disk, agree))
    if bm is not None:
        wall, cpu, results = timed(bm.search)
        rebuild = f"{costs['bm25s']:.0f} s rebuild"
        cold, agree = cold_start("bm25s", bm.folder), overlap(results, reference)
        print(row("(c) bm25s", (wall, cpu), rebuild, cold, disk_mb(bm.folder), agree))
    wall, cpu, results = timed(tan.search)
    tan_insert = f"{costs['tantivy'] * 1000:.3f} ms"
    cold, disk = cold_start("tantivy", tan.folder), disk_mb(tan.folder / "keyword-v1")
    print(
        row("(d) tantivy (now)", (wall, cpu), tan_insert, cold, disk, overlap(results, reference))
    )
    for what, old, new in (("wall", old_wall, wall), ("CPU", old_cpu, cpu)):
        ratio = percentile(old, 95) / max(percentile(new, 95), 1e-9)
        print(f"  p95 {what} time of FTS5 OR / tantivy, same run: {ratio:.0f}x")
    print("  (disk: the keyword index only; the chunk table lives in SQLite for every candidate)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10,000 chunks only")
    parser.add_argument("--million", action="store_true", help="go on to 1,000,000 chunks")
    parser.add_argument("--sizes", help="chunk counts, e.g. 10000,100000")
    parser.add_argument("--no-bm25s", action="store_true", help="leave bm25s out")
    parser.add_argument("--bm25s-upto", type=int, default=300_000, help="bm25s up to N chunks")
    args = parser.parse_args()
    sizes = [10_000] if args.small else [10_000, 100_000, 300_000]
    if args.million:
        sizes.append(1_000_000)
    if args.sizes:
        sizes = [int(n) for n in args.sizes.split(",")]
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    print(cpu_line())
    files = doc_files(2 if args.small else 7)
    texts = text_windows(spread(files, len(files)), max(sizes))
    print(f"  {len(texts):,} chunks of real text from {len({s for s, _ in texts}):,} documents")
    use_bm25s = not args.no_bm25s
    if use_bm25s:
        try:
            import bm25s  # noqa: F401
        except ImportError:
            print("  bm25s is not installed (pip install -e .[bench]): left out")
            use_bm25s = False
    with tempfile.TemporaryDirectory(prefix="sb-keyword-") as tmp:
        work = Path(tmp)
        fts, tan = Fts5(work / "fts5"), Tantivy(work / "tantivy")
        bm = Bm25s(work / "bm25s") if use_bm25s else None
        spent = {"fts5": 0.0, "tantivy": 0.0}
        done = 0
        for size in sizes:
            for lo in range(done, size, BATCH):
                rows = [(f"c{i}", *texts[i]) for i in range(lo, min(size, lo + BATCH))]
                for name, target in (("fts5", fts), ("tantivy", tan)):
                    started = time.perf_counter()
                    target.add(rows)
                    spent[name] += time.perf_counter() - started
                if bm is not None:
                    bm.add(rows)
            done = size
            costs = {name: total / size for name, total in spent.items()}
            if bm is not None:
                started = time.perf_counter()
                bm.build()
                costs["bm25s"] = time.perf_counter() - started
            measure(size, fts, tan, bm, costs)
            if bm is not None and size >= args.bm25s_upto:
                bm = None  # each size rebuilds it whole: past this, too long to wait for
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this run (every candidate at once): {rss:.0f} MB")


if __name__ == "__main__":
    main()

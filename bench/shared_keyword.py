"""Keyword search with several servers: the two designs, measured on the same index.

(a) shipped: each server keeps its own tantivy index and follows the shared change log by
    position (store/keyword.py): BM25 with block-max WAND, local to each server; a change is
    searchable on another server once its follower has looked (every 0.5 s).
(b) PostgreSQL full-text search: a tsvector column with a GIN index in the shared database,
    OR of the query's words, ranked by ts_rank (normalised by log length); a change is
    searchable everywhere at commit.

    # quality: sourcebook eval with each keyword half, on an index already in PostgreSQL
    SOURCEBOOK_DATABASE_URL=... SOURCEBOOK_CHROMA_URL=... SOURCEBOOK_HOME=... \\
        .venv/bin/python bench/shared_keyword.py quality QUESTIONS [--gold-dir DIR]
    # speed: keyword half and hybrid search at N chunks (real Debian text, as bench/scale.py)
    .venv/bin/python bench/shared_keyword.py scale --chunks 100000

Nothing is tuned here: (b)'s query and ranking are PostgreSQL's defaults for English, chosen
before any figure was seen; the question files only measure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "bench"))  # after REPO: bench/ingest.py is not the ingest package

DEPTH = 24

BUILD = """
DROP TABLE IF EXISTS bench_fts;
CREATE TABLE bench_fts AS
    SELECT chunk_id, source, to_tsvector('english', text) AS tsv FROM chunks;
CREATE INDEX bench_fts_tsv ON bench_fts USING GIN (tsv);
CREATE INDEX bench_fts_source ON bench_fts (source);
ANALYZE bench_fts;
"""
QUERY = """
SELECT chunk_id, ts_rank(tsv, q, 1) AS rank
FROM bench_fts, to_tsquery('english', %(words)s) AS q
WHERE tsv @@ q {where}
ORDER BY rank DESC, chunk_id LIMIT %(k)s
"""


class PgKeywords:
    """Design (b): the keyword half answered by PostgreSQL's full-text search."""

    def __init__(self, url: str) -> None:
        import psycopg

        from store.words import FUNCTION_WORDS, INDEX_WORD

        self.conn = psycopg.connect(url, autocommit=True)
        self.stop, self.token = FUNCTION_WORDS, INDEX_WORD  # as the keyword index splits a query

    def build(self) -> float:
        started = time.perf_counter()
        self.conn.execute(BUILD)
        return time.perf_counter() - started

    def search(
        self, query: str, k: int, sources: list[str] | None = None
    ) -> list[tuple[str, float]]:
        words = [w for w in self.token.findall(query.lower()) if w not in self.stop]
        if not words or k <= 0:
            return []
        where = "AND source = ANY(%(sources)s)" if sources else ""
        rows = self.conn.execute(
            QUERY.format(where=where),
            {"words": " | ".join(dict.fromkeys(words)), "k": k, "sources": sources},
        ).fetchall()
        return [(cid, float(rank)) for cid, rank in rows]

    def size_mb(self) -> float:
        sql = "SELECT pg_total_relation_size('bench_fts')"
        row = self.conn.execute(sql).fetchone()
        assert row is not None  # one row, always
        return int(row[0]) / 1e6


def quality(args: argparse.Namespace) -> None:
    from app.evaluation import as_dict, evaluate
    from app.library import get_index
    from app.settings import get_settings

    settings = get_settings()
    index = get_index(settings)
    pg = PgKeywords(str(settings.database_url))
    print(f"built the full-text table in {pg.build():.1f} s ({index.counts()[1]} chunks)")
    shipped = as_dict(evaluate(args.file, settings=settings, gold_dir=args.gold_dir), False)
    index.keyword_search = pg.search  # type: ignore[method-assign]  # design (b), all else as shipped
    fts = as_dict(evaluate(args.file, settings=settings, gold_dir=args.gold_dir), False)
    print(f"{args.file}:")
    for name in shipped:
        print(f"  {name:20} (a) tantivy {shipped[name]!s:8} (b) PostgreSQL FTS {fts[name]}")


def scale(args: argparse.Namespace) -> None:
    from debian_docs import QUERIES, cpu_line, doc_files, ms, spread
    from scale import Chunks, cpu_timed, fill, timed

    from store import IndexConfig, load_model, open_index, search
    from tests.helpers import Postgres, free_port, new_database, start_chroma

    print(cpu_line())
    postgres = Postgres().start()
    chroma_port = free_port()
    with tempfile.TemporaryDirectory(prefix="sb-keyword-") as tmp:
        chroma = start_chroma(Path(tmp) / "chroma", chroma_port)
        try:
            url = new_database(postgres.url)
            model = load_model("all-MiniLM-L6-v2", "torch")
            files = doc_files(2)
            chunks = Chunks(spread(files, len(files)), args.chunks, model, 500)
            config = IndexConfig(
                Path(tmp) / "home",
                "all-MiniLM-L6-v2",
                200,
                32,
                chroma_url=f"http://127.0.0.1:{chroma_port}",
                database_url=url,
            )
            index = open_index(config, model=model)
            started = time.monotonic()
            per_chunk, _ = fill(index, chunks, 0, args.chunks, None)
            print(f"\n{args.chunks:,} chunks in PostgreSQL + Chroma server, filled in "
                  f"{time.monotonic() - started:.0f} s ({per_chunk:.2f} ms a chunk: Chroma, "
                  "chunk table, tantivy)")  # fmt: skip
            pg = PgKeywords(url)
            built = pg.build()
            print(f"  (b) full-text table built in {built:.1f} s "
                  f"({built / args.chunks * 1000:.3f} ms a chunk), {pg.size_mb():.0f} MB")  # fmt: skip
            folder = Path(tmp) / "home" / "keyword-v1"
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
            print(f"  (a) tantivy folder on each server: {size:.0f} MB")
            measure(index, pg, QUERIES, timed, cpu_timed, ms, search)
            index.close()
        finally:
            chroma.terminate()
            postgres.remove()


def measure(
    index: Any, pg: PgKeywords, queries: list[str], timed: Any, cpu_timed: Any, ms: Any, search: Any
) -> None:
    vectors = {q: index.embeddings.embed_query(q) for q in queries}
    print(f"  {len(queries)} queries x 3 rounds, k=6 ({DEPTH} asked of each half):")
    rows = {
        "keyword half, (a) tantivy": timed(lambda q: index.keyword_search(q, DEPTH), queries),
        "keyword half, (b) PostgreSQL": timed(lambda q: pg.search(q, DEPTH), queries),
        "hybrid, vector given, (a)": timed(
            lambda q: search(index, q, k=6, vector=vectors[q]), queries
        ),
    }
    shipped = index.keyword_search
    index.keyword_search = pg.search
    rows["hybrid, vector given, (b)"] = timed(
        lambda q: search(index, q, k=6, vector=vectors[q]), queries
    )
    index.keyword_search = shipped
    rows["keyword half CPU here, (a)"] = cpu_timed(
        lambda q: index.keyword_search(q, DEPTH), queries
    )
    for label, values in rows.items():
        print(f"    {label:<32} {ms(values)}")
    print(
        "    ((b)'s CPU is spent in PostgreSQL, not in this process: its wall time is the figure)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("quality")
    p.add_argument("file", type=Path)
    p.add_argument("--gold-dir", type=Path)
    p = sub.add_parser("scale")
    p.add_argument("--chunks", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.update(
        {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    )
    import warnings

    warnings.filterwarnings("ignore")  # bs4 on XHTML pages, as in bench/scale.py
    from app.interfaces.cli import quiet_libraries

    quiet_libraries(verbose=False)
    quality(args) if args.mode == "quality" else scale(args)


if __name__ == "__main__":
    main()

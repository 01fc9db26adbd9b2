"""Hybrid search: dense (Chroma) and keyword (SQLite FTS5 BM25) results fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.index import Index

RRF_K = 60  # the constant of Cormack et al. (2009); damps the weight of the very top ranks


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk."""

    chunk_id: str
    source: str
    text: str
    start: int
    end: int
    score: float  # fused reciprocal-rank score, higher is better
    similarity: float  # cosine similarity of the chunk to the query (0 when only BM25 found it)
    title: str = ""
    page: int | None = None
    heading: str | None = None
    doc_hash: str = ""
    slide: int | None = None
    sheet: str | None = None
    row: int | None = None  # a spreadsheet's or CSV's rows: the first and last in the chunk
    row_end: int | None = None


def fuse(rankings: list[list[str]]) -> dict[str, float]:
    """Reciprocal-rank fusion of several best-first id lists."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    return scores


def search(
    index: Index,
    query: str,
    k: int = 5,
    sources: list[str] | None = None,
    vector: list[float] | None = None,
) -> list[Hit]:
    """The `k` best chunks for `query`, optionally only from `sources`."""
    depth = max(4 * k, 20)
    if vector is None:
        vector = index.embeddings.embed_query(query)
    dense = index.nearest(vector, depth, sources)
    keyword = index.keyword_search(query, depth, sources)
    similarity = dict(dense)
    fused = fuse([[cid for cid, _ in dense], [cid for cid, _ in keyword]])
    best = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
    rows = index.chunks(best)
    # A chunk in Chroma but not (yet) in SQLite is left out: an ingest is mid-way.
    return [
        hit_of(cid, *rows[cid], round(fused[cid], 6), round(similarity.get(cid, 0.0), 4))
        for cid in best
        if cid in rows
    ]


def hit_of(cid: str, text: str, meta: dict[str, Any], score: float, similarity: float) -> Hit:
    """The Hit of chunk `cid`, its place read from its metadata."""
    return Hit(
        chunk_id=cid,
        source=meta["source"],
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        score=score,
        similarity=similarity,
        title=meta.get("title", ""),
        page=meta.get("page"),
        heading=meta.get("heading") or None,
        doc_hash=meta.get("doc_hash", ""),
        slide=meta.get("slide"),
        sheet=meta.get("sheet"),
        row=meta.get("row"),
        row_end=meta.get("row_end"),
    )

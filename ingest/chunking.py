"""Cut a document's text into chunks that fit the embedding model, each with exact offsets."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.extracted import Extracted

# Paragraphs, then lines, then sentence ends, then clauses, then words: cut at the largest unit
# that fits. Separators stay at the end of the piece they close.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]
COUNTS_KEPT = 4096  # pieces whose length is remembered (a few documents' worth)


def make_splitter(
    count_tokens: Callable[[str], int], chunk_tokens: int, chunk_overlap: int
) -> RecursiveCharacterTextSplitter:
    """A splitter that measures length in the embedding model's word pieces.

    The splitter measures each piece when it splits and again when it merges, and the same
    short pieces recur ("", "( ", a name): remembered, the word pieces counted per ingest drop
    from 3.7 to 1.6 times the corpus's characters (ClapNQ's, measured by bench/ingest.py)."""
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_tokens,
        chunk_overlap=chunk_overlap,
        length_function=lru_cache(maxsize=COUNTS_KEPT)(count_tokens),
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def spans(text: str, pieces: list[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each piece in `text`; pieces are in order and may overlap."""
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:  # cannot happen for a splitter that only cuts; fail loudly if it does
            raise ValueError("a chunk is not a span of its document")
        yield start, start + len(piece)
        cursor = start + 1


def section_at(
    sections: list[dict[str, Any]], offset: int, starts: list[int] | None = None
) -> dict[str, Any]:
    """The section (page, heading, slide, row) in force at `offset`; `starts`, the sections'
    start offsets, may be passed to save recomputing them (a CSV has a section per row)."""
    starts = starts if starts is not None else [s["start"] for s in sections]
    i = bisect_right(starts, offset)
    return sections[i - 1] if i else {}


# The keys of a section that chunks carry in their metadata (and hits and citations after them).
PLACE_KEYS = {"page": int, "slide": int, "sheet": str, "row": int, "heading": str}


def place_of(section: dict[str, Any]) -> dict[str, Any]:
    """The part of `section` that says where a chunk is: page, slide, sheet and row, heading."""
    return {k: cast(section[k]) for k, cast in PLACE_KEYS.items() if section.get(k) is not None}


def place_of_span(
    sections: list[dict[str, Any]], start: int, end: int, starts: list[int] | None = None
) -> dict[str, Any]:
    """Where the span [start:end] of a document lies, by its `sections`: page, slide, sheet, row
    (to row_end), heading; None for what the document does not have. A sheet's name heads its
    rows. The place of a chunk, and of a quote inside one (which may start on a later page)."""
    place: dict[str, Any] = dict.fromkeys([*PLACE_KEYS, "row_end"])
    place.update(place_of(section_at(sections, start, starts)))
    if place["row"] is not None:  # a run of rows: where it ends too
        last = section_at(sections, max(start, end - 1), starts).get("row", place["row"])
        place["row_end"] = int(last)
    if place["sheet"] is not None and place["heading"] is None:
        place["heading"] = place["sheet"]
    return place


def chunk_document(
    doc: Extracted,
    source: str,
    doc_hash: str,
    splitter: RecursiveCharacterTextSplitter,
) -> list[Document]:
    """The document's chunks, in order; `text[start:end] == page_content` for each."""
    pieces = [p for p in splitter.split_text(doc.text) if p.strip()]
    starts = [s["start"] for s in doc.sections]
    chunks = []
    for piece, (start, end) in zip(pieces, spans(doc.text, pieces), strict=True):
        metadata: dict[str, Any] = {
            "source": source,
            "title": doc.title,
            "start": start,
            "end": end,
            "doc_hash": doc_hash,
            "chunk_hash": hashlib.sha256(piece.encode()).hexdigest()[:16],
        }
        place = place_of_span(doc.sections, start, end, starts)
        metadata.update({k: v for k, v in place.items() if v is not None})
        chunks.append(Document(page_content=piece, metadata=metadata))
    return chunks

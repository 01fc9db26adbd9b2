"""Cut a document's text into chunks that fit the embedding model, each with exact offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.extracted import Extracted

# Paragraphs, then lines, then sentence ends, then clauses, then words: cut at the largest unit
# that fits. Separators stay at the end of the piece they close.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def make_splitter(
    count_tokens: Callable[[str], int], chunk_tokens: int, chunk_overlap: int
) -> RecursiveCharacterTextSplitter:
    """A splitter that measures length in the embedding model's word pieces."""
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_tokens,
        chunk_overlap=chunk_overlap,
        length_function=count_tokens,
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


def section_at(sections: list[dict[str, Any]], offset: int) -> dict[str, Any]:
    """The page or heading in force at `offset`."""
    found: dict[str, Any] = {}
    for section in sections:
        if section["start"] > offset:
            break
        found = section
    return found


def chunk_document(
    doc: Extracted,
    source: str,
    doc_hash: str,
    splitter: RecursiveCharacterTextSplitter,
) -> list[Document]:
    """The document's chunks, in order; `text[start:end] == page_content` for each."""
    pieces = [p for p in splitter.split_text(doc.text) if p.strip()]
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
        section = section_at(doc.sections, start)
        if "page" in section:
            metadata["page"] = int(section["page"])
        if "heading" in section:
            metadata["heading"] = str(section["heading"])
        chunks.append(Document(page_content=piece, metadata=metadata))
    return chunks

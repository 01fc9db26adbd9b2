"""The stream of chunks an ingest feeds to the index: files read, parsed and chunked in a thread,
ahead of the encoder."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document

from ingest.bounded import load_bounded
from ingest.chunking import chunk_document, make_splitter
from ingest.errors import LoadError
from ingest.extracted import Extracted
from ingest.prefetch import prefetch
from store import Index, StoredText

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (files done, files in all, current source)

# Chunks read ahead of the encoder: enough to cover a slow file, bounded in memory (~2 MB).
PREFETCH_CHUNKS = 1024
# Texts per encoder call, and chunks embedded ahead of the index writes. The encoder sorts a
# call's texts by length so that its batches carry little padding: 64 texts a call left ClapNQ's
# chunks ~20% more encoder CPU than sorting them all (bench/ingest.py's raw rate); 256 came
# within ~5%, and 512 gained nothing more (ClapNQ's corpus and SQuAD 1.1 articles).
EMBED_BATCH = 256
EMBED_AHEAD = 512


def content_hash(data: bytes) -> str:
    """What a file's bytes hash to: the key of its extracted text in the index."""
    return hashlib.sha256(data).hexdigest()[:32]


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


@dataclass
class Scan:
    """What this run found on disk, filled in while the documents stream past."""

    hashes: dict[str, str] = field(default_factory=dict)  # source -> doc_hash
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # source -> (size, mtime)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class _FileStarted:
    """A marker in the document stream: the chunks of file `n` (of `total`) follow."""

    n: int
    total: int
    source: str


def documents(
    index: Index,
    folder: Path,
    files: list[Path],
    scan: Scan,
    max_bytes: int,
    progress: Progress | None,
) -> Iterator[Document]:
    """Every chunk of every file, streamed through three stages that overlap: files read,
    parsed and chunked in one thread (up to PREFETCH_CHUNKS ahead); new chunk texts embedded in
    batches in a second (into the index's vector cache); and the caller writing the index.
    So the encoder never waits for a parser or for a write."""
    items = _read_files(index, folder, files, scan, max_bytes)
    chunks = _with_progress(prefetch(items, PREFETCH_CHUNKS, name="ingest-reader"), progress)
    yield from prefetch(index.embed_ahead(chunks, EMBED_BATCH), EMBED_AHEAD, name="ingest-encoder")
    if progress:
        progress(len(files), len(files), "")


def _with_progress(
    items: Iterator[Document | _FileStarted], progress: Progress | None
) -> Iterator[Document]:
    for item in items:
        if isinstance(item, _FileStarted):
            if progress:
                progress(item.n - 1, item.total, item.source)
        else:
            yield item


def _read_files(
    index: Index, folder: Path, files: list[Path], scan: Scan, max_bytes: int
) -> Iterator[Document | _FileStarted]:
    """Each file's marker, then its chunks: unchanged files' chunks come from the index itself."""
    done_before = index.indexed_files()
    splitter = make_splitter(
        index.count_tokens, index.config.chunk_tokens, index.config.chunk_overlap
    )
    for n, path in enumerate(files, start=1):
        source = path.relative_to(folder).as_posix()
        yield _FileStarted(n, len(files), source)
        try:
            docs = _chunks_of(
                index, path, source, done_before.get(source), scan, max_bytes, splitter
            )
        except LoadError as e:
            log.info("skipped %s: %s", source, e)  # the report lists it
            scan.skipped.append(Skipped(source, str(e)))
            docs = _kept_chunks(index, source, scan)  # a bad file never costs what was indexed
        yield from docs


def _chunks_of(
    index: Index,
    path: Path,
    source: str,
    previous_hash: str | None,
    scan: Scan,
    max_bytes: int,
    splitter: object,
) -> list[Document]:
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            raise LoadError(
                f"larger than {max_bytes / 1e6:g} MB (raise SOURCEBOOK_MAX_FILE_MB to ingest it)"
            )
        doc_hash = index.known_hash(source, stat.st_size, stat.st_mtime_ns)
        data = None
        if doc_hash is None:
            data = path.read_bytes()
            doc_hash = content_hash(data)
    except OSError as e:
        raise LoadError(f"cannot read it ({e.strerror or e})") from e
    scan.stats[source] = (stat.st_size, stat.st_mtime_ns)
    if doc_hash == previous_hash:
        stored = index.stored_chunks(source, doc_hash)
        if stored:
            scan.hashes[source] = doc_hash
            return [Document(page_content=t, metadata=m) for t, m in stored]
    text = index.text(doc_hash)
    if text is None:
        if data is None:
            data = path.read_bytes()
        extracted = load_bounded(path, data)
        text = StoredText(doc_hash, extracted.text, extracted.title, extracted.sections)
        index.put_text(text)
    scan.hashes[source] = doc_hash
    doc = Extracted(text.text, text.title or path.stem, text.sections)
    return chunk_document(doc, source, doc_hash, splitter)  # type: ignore[arg-type]


def _kept_chunks(index: Index, source: str, scan: Scan) -> list[Document]:
    stored = index.stored_chunks(source)
    if stored:
        scan.hashes[source] = stored[0][1]["doc_hash"]
    return [Document(page_content=t, metadata=m) for t, m in stored]

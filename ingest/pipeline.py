"""Ingest a folder into an index and keep the index in step with it."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.indexing import index as langchain_index

from ingest.chunking import chunk_document, make_splitter
from ingest.loaders import SUPPORTED, Extracted, LoadError, load
from store import Index, StoredText, delete_index, ingest_lock, open_index
from store.index import IndexConfig

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (files done, files in all, current source)


class IngestError(Exception):
    """The ingest as a whole cannot run (missing folder, ...); the message says what to do."""


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


@dataclass(frozen=True)
class IngestReport:
    """What an ingest changed, in files and in chunks."""

    folder: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    renamed: int = 0
    chunks_added: int = 0
    chunks_deleted: int = 0
    chunks_unchanged: int = 0
    texts_embedded: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0  # files of a type Sourcebook does not read


@dataclass
class _Scan:
    """What this run found on disk, filled in while the documents stream past."""

    hashes: dict[str, str] = field(default_factory=dict)  # source -> doc_hash
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # source -> (size, mtime)
    skipped: list[Skipped] = field(default_factory=list)


def list_files(folder: Path) -> tuple[list[Path], int]:
    """Supported files under `folder`, sorted; and how many others were passed over."""
    found, ignored = [], 0
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith(".") or name.startswith("~$"):
                continue
            path = Path(root) / name
            if path.is_symlink() and not path.resolve().is_relative_to(folder.resolve()):
                ignored += 1  # a link out of the folder is not the folder's document
            elif path.suffix.lower() in SUPPORTED:
                found.append(path)
            else:
                ignored += 1
    return found, ignored


def _documents(
    index: Index,
    folder: Path,
    files: list[Path],
    scan: _Scan,
    max_bytes: int,
    progress: Progress | None,
) -> Iterator[Document]:
    """Every chunk of every file, streamed: unchanged files from the index itself."""
    done_before = index.textdb.indexed_files()
    splitter = make_splitter(
        index.model.count_tokens, index.config.chunk_tokens, index.config.chunk_overlap
    )
    for n, path in enumerate(files, start=1):
        source = path.relative_to(folder).as_posix()
        if progress:
            progress(n - 1, len(files), source)
        try:
            docs = _chunks_of(
                index, path, source, done_before.get(source), scan, max_bytes, splitter
            )
        except LoadError as e:
            log.warning("skipped %s: %s", source, e)
            scan.skipped.append(Skipped(source, str(e)))
            docs = _kept_chunks(index, source, scan)  # a bad file never costs what was indexed
        yield from docs
    if progress:
        progress(len(files), len(files), "")


def _chunks_of(
    index: Index,
    path: Path,
    source: str,
    previous_hash: str | None,
    scan: _Scan,
    max_bytes: int,
    splitter: object,
) -> list[Document]:
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            raise LoadError(
                f"larger than {max_bytes / 1e6:g} MB (raise SOURCEBOOK_MAX_FILE_MB to ingest it)"
            )
        doc_hash = index.textdb.file_hash(source, stat.st_size, stat.st_mtime_ns)
        data = None
        if doc_hash is None:
            data = path.read_bytes()
            doc_hash = hashlib.sha256(data).hexdigest()[:32]
    except OSError as e:
        raise LoadError(f"cannot read it ({e.strerror or e})") from e
    scan.stats[source] = (stat.st_size, stat.st_mtime_ns)
    if doc_hash == previous_hash:
        stored = index.textdb.stored_chunks(source, doc_hash)
        if stored:
            scan.hashes[source] = doc_hash
            return [Document(page_content=t, metadata=m) for t, m in stored]
    text = index.textdb.get_text(doc_hash)
    if text is None:
        if data is None:
            data = path.read_bytes()
        extracted = load(path, data)
        text = StoredText(doc_hash, extracted.text, extracted.title, extracted.sections)
        index.textdb.put_text(text)
    scan.hashes[source] = doc_hash
    doc = Extracted(text.text, text.title or path.stem, text.sections)
    return chunk_document(doc, source, doc_hash, splitter)  # type: ignore[arg-type]


def _kept_chunks(index: Index, source: str, scan: _Scan) -> list[Document]:
    stored = index.textdb.stored_chunks(source)
    if stored:
        scan.hashes[source] = stored[0][1]["doc_hash"]
    return [Document(page_content=t, metadata=m) for t, m in stored]


def _remove_sources(index: Index, sources: list[str]) -> int:
    """Delete every chunk of `sources` from the index; returns how many."""
    keys = index.records.list_keys(group_ids=sources) if sources else []
    if keys:
        index.store.delete(keys)
        index.records.delete_keys(keys)
    index.textdb.forget_files(sources)
    return len(keys)


def _resolve_paths(folder: Path, paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files to ingest under `folder` for the given paths, and sources that no longer exist."""
    files, gone = [], []
    for path in paths:
        absolute = path.resolve() if path.is_absolute() else (Path.cwd() / path).resolve()
        if not absolute.is_relative_to(folder.resolve()):
            if not absolute.exists():
                raise IngestError(f"{path} does not exist")
            raise IngestError(
                f"{path} is outside the ingested folder {folder}; pass a folder to index "
                "that folder instead, or set SOURCEBOOK_SOURCES"
            )
        if absolute.is_dir():
            files += list_files(absolute)[0]
        elif absolute.exists():
            files.append(absolute)
        else:
            gone.append(absolute.relative_to(folder.resolve()).as_posix())
    return sorted(set(files)), gone


def ingest_folder(
    config: IndexConfig,
    folder: Path,
    *,
    paths: list[Path] | None = None,
    rebuild: bool = False,
    max_file_mb: float = 50.0,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index in step with `folder` (or with just `paths` inside it)."""
    if not folder.is_dir():
        raise IngestError(
            f"folder {folder} does not exist; set SOURCEBOOK_SOURCES or pass a folder"
        )
    folder = folder.resolve()
    started = time.monotonic()
    with ingest_lock(config.home):
        if rebuild:
            delete_index(config)
        index = open_index(config)
        try:
            return _run(index, folder, paths, max_file_mb, progress, started)
        finally:
            index.close()


def _run(
    index: Index,
    folder: Path,
    paths: list[Path] | None,
    max_file_mb: float,
    progress: Progress | None,
    started: float,
) -> IngestReport:
    if paths:
        files, gone = _resolve_paths(folder, paths)
        ignored = 0
    else:
        (files, ignored), gone = list_files(folder), []
        if not files:
            raise IngestError(
                f"no documents in {folder} (Sourcebook reads {', '.join(SUPPORTED)}); "
                "the index was left as it was"
            )
    previous = index.textdb.indexed_files()
    index.textdb.set_meta({**index.config.build_key, "folder": str(folder)})
    scan = _Scan()
    embedded_before = index.embeddings.texts_embedded
    docs = _documents(index, folder, files, scan, int(max_file_mb * 1e6), progress)
    result = langchain_index(
        docs,
        index.records,
        index.store,
        cleanup="scoped_full" if paths else "full",
        source_id_key="source",
        key_encoder="sha256",
        batch_size=64,
    )
    deleted = result["num_deleted"] + _remove_sources(index, [g for g in gone if g in previous])
    skipped = {s.source for s in scan.skipped}
    for source, doc_hash in scan.hashes.items():
        if source not in skipped:
            index.textdb.remember_file(source, doc_hash, *scan.stats[source])
    removed = [s for s in previous if s not in scan.hashes and (not paths or s in gone)]
    index.textdb.forget_files(removed)
    index.textdb.prune()
    index.textdb.set_meta({"last_ingest": datetime.now(UTC).isoformat(timespec="seconds")})
    return _report(
        folder,
        previous,
        scan,
        removed,
        skipped,
        result,
        deleted,
        ignored,
        index,
        embedded_before,
        started,
    )


def _report(
    folder: Path,
    previous: dict[str, str],
    scan: _Scan,
    removed: list[str],
    skipped: set[str],
    result: dict[str, int],
    deleted: int,
    ignored: int,
    index: Index,
    embedded_before: int,
    started: float,
) -> IngestReport:
    fresh = [s for s in scan.hashes if s not in skipped]
    added = [s for s in fresh if s not in previous]
    updated = [s for s in fresh if s in previous and previous[s] != scan.hashes[s]]
    removed_hashes = {previous[s] for s in removed}
    renamed = [s for s in added if scan.hashes[s] in removed_hashes]
    return IngestReport(
        folder=str(folder),
        added=len(added) - len(renamed),
        updated=len(updated),
        unchanged=len(fresh) - len(added) - len(updated),
        removed=len(removed) - len(renamed),
        renamed=len(renamed),
        chunks_added=result["num_added"],
        chunks_deleted=deleted,
        chunks_unchanged=result["num_skipped"],
        texts_embedded=index.embeddings.texts_embedded - embedded_before,
        seconds=round(time.monotonic() - started, 2),
        skipped=scan.skipped,
        ignored=ignored,
    )

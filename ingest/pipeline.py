"""Ingest a folder into an index and keep the index in step with it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import IngestError
from ingest.formats import SUPPORTED
from ingest.listing import list_files
from ingest.stream import Progress, Scan, Skipped, documents
from store import Index, IndexConfig, Synced, delete_index, ingest_lock, open_index

__all__ = [
    "LINK_OUT",
    "Changed",
    "IngestReport",
    "Progress",
    "Skipped",
    "ingest_folder",
    "other_folder",
]

log = logging.getLogger(__name__)

# Chunks per call to the encoder, measured by bench/ingest.py: larger batches sort by length
# better (less padding) but gain little past this and delay the first write.
INDEX_BATCH = 128
LINK_OUT = "a link to somewhere outside the documents folder; not read"


@dataclass(frozen=True)
class Changed:
    """One document the ingest changed: `what` is added, updated, removed or renamed (from
    `previous`)."""

    what: str
    source: str
    previous: str | None = None


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
    changed: list[Changed] = field(default_factory=list)  # by name, what the counts count


def _resolve_paths(folder: Path, paths: list[Path]) -> tuple[list[Path], list[str], list[Path]]:
    """Files to ingest under `folder` for the given paths, sources that no longer exist, and
    links out of the folder found on the way."""
    files, gone, links_out = [], [], []
    for path in paths:
        absolute = path.resolve() if path.is_absolute() else (Path.cwd() / path).resolve()
        if not absolute.is_relative_to(folder.resolve()):
            if not absolute.exists():
                raise IngestError(f"{path} does not exist")
            raise IngestError(
                f"{path} is outside the folder the index follows ({folder}); only files and "
                "folders inside it can be ingested one by one"
            )
        if absolute.is_dir():
            listing = list_files(absolute)
            files += listing.files
            links_out += listing.links_out
        elif absolute.exists():
            files.append(absolute)
        else:
            gone.append(absolute.relative_to(folder.resolve()).as_posix())
    return sorted(set(files)), gone, links_out


def ingest_folder(
    config: IndexConfig,
    folder: Path,
    *,
    paths: list[Path] | None = None,
    rebuild: bool = False,
    max_file_mb: float = 50.0,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index in step with `folder` (or with just `paths` inside it). An index follows
    the folder it was built from: another folder is refused unless `rebuild` starts it anew."""
    if not folder.is_dir():
        raise IngestError(f"folder {folder} does not exist; pass the folder to index")
    folder = folder.resolve()
    started = time.monotonic()
    with ingest_lock(config.home, config.database_url):
        if rebuild:
            delete_index(config)
        index = open_index(config)
        try:
            followed = index.meta().get("folder")
            if followed and Path(followed) != folder:
                raise IngestError(other_folder(config.home, Path(followed), folder))
            return _run(index, folder, paths, max_file_mb, progress, started)
        finally:
            index.close()


def other_folder(home: Path, followed: Path, folder: Path) -> str:
    """Why an index does not take another folder, and the command that makes it."""
    return (
        f"the index in {home} follows {followed}, not {folder}; to follow {folder} instead, "
        f"run `sourcebook ingest --rebuild {folder}` (it drops what the index holds of "
        f"{followed}), or give {folder} an index of its own with another SOURCEBOOK_HOME"
    )


def _run(
    index: Index,
    folder: Path,
    paths: list[Path] | None,
    max_file_mb: float,
    progress: Progress | None,
    started: float,
) -> IngestReport:
    if paths:
        files, gone, links_out = _resolve_paths(folder, paths)
        ignored = 0
    else:
        (files, ignored, links_out), gone = list_files(folder), []
        if not files:
            raise IngestError(
                f"no documents in {folder} (Sourcebook reads {', '.join(SUPPORTED)}); "
                "the index was left as it was"
            )
    previous = index.indexed_files()
    # A path that is gone may have been a folder (moved out, deleted): its documents are gone.
    gone = [s for s in previous if any(s == g or s.startswith(g + "/") for g in gone)]
    index.begin_ingest(folder)
    # One line for each link out, as for every other file not read.
    scan = Scan(skipped=[Skipped(_source(folder, link), LINK_OUT) for link in links_out])
    embedded_before = index.texts_embedded
    docs = documents(index, folder, files, scan, int(max_file_mb * 1e6), progress)
    synced = index.sync(docs, scoped=bool(paths), batch_size=INDEX_BATCH)
    deleted = synced.deleted + index.remove_sources(gone)
    skipped = {s.source for s in scan.skipped}
    kept = {
        source: (doc_hash, *scan.stats[source])
        for source, doc_hash in scan.hashes.items()
        if source not in skipped
    }
    removed = [s for s in previous if s not in scan.hashes and (not paths or s in gone)]
    index.finish_ingest(kept, removed)
    return _report(
        folder,
        previous,
        scan,
        removed=removed,
        skipped=skipped,
        synced=synced,
        deleted=deleted,
        ignored=ignored,
        embedded=index.texts_embedded - embedded_before,
        started=started,
    )


def _source(folder: Path, path: Path) -> str:
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.relative_to(folder).as_posix()
    except ValueError:
        return path.as_posix()


def _report(
    folder: Path,
    previous: dict[str, str],
    scan: Scan,
    *,
    removed: list[str],
    skipped: set[str],
    synced: Synced,
    deleted: int,
    ignored: int,
    embedded: int,
    started: float,
) -> IngestReport:
    fresh = [s for s in scan.hashes if s not in skipped]
    added = [s for s in fresh if s not in previous]
    updated = [s for s in fresh if s in previous and previous[s] != scan.hashes[s]]
    renamed = _renames(added, removed, previous, scan.hashes)
    changed = (
        [Changed("added", s) for s in added if s not in renamed]
        + [Changed("updated", s) for s in updated]
        + [Changed("renamed", s, old) for s, old in renamed.items()]
        + [Changed("removed", s) for s in sorted(set(removed) - set(renamed.values()))]
    )
    return IngestReport(
        folder=str(folder),
        added=len(added) - len(renamed),
        updated=len(updated),
        unchanged=len(fresh) - len(added) - len(updated),
        removed=len(removed) - len(renamed),
        renamed=len(renamed),
        chunks_added=synced.added,
        chunks_deleted=deleted,
        chunks_unchanged=synced.unchanged,
        texts_embedded=embedded,
        seconds=round(time.monotonic() - started, 2),
        skipped=scan.skipped,
        ignored=ignored,
        changed=changed,
    )


def _renames(
    added: list[str], removed: list[str], previous: dict[str, str], hashes: dict[str, str]
) -> dict[str, str]:
    """new source -> the removed source it was renamed from (same bytes), each paired once."""
    removed_by_hash: dict[str, list[str]] = {}
    for source in removed:
        removed_by_hash.setdefault(previous[source], []).append(source)
    renamed = {}
    for source in added:
        olds = removed_by_hash.get(hashes[source])
        if olds:
            renamed[source] = olds.pop()
    return renamed

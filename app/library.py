"""The index as the app sees it: built from the settings, opened once per process."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from app.settings import Settings, get_settings
from ingest import IngestReport, ingest_folder
from ingest.pipeline import Progress
from store import Hit, Index, IndexConfig, StoreError, open_index, search

log = logging.getLogger(__name__)

_OPEN: dict[IndexConfig, Index] = {}
_LOCK = threading.Lock()


class NoIndexError(StoreError):
    """Nothing has been ingested into this home yet."""


def quiet_libraries() -> None:
    """Model loading prints progress bars and load reports meant for model developers."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass


def index_config(settings: Settings) -> IndexConfig:
    return IndexConfig(
        home=settings.home.expanduser().resolve(),
        embedding_model=settings.embedding_model,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap=settings.chunk_overlap,
        chroma_url=settings.chroma_url,
        embedding_backend=settings.embedding_backend,
    )


def get_index(settings: Settings | None = None) -> Index:
    """The index the settings name, opened once per process; an error if none was built."""
    settings = settings or get_settings()
    config = index_config(settings)
    with _LOCK:
        index = _OPEN.get(config)
        if index is None:
            if not (config.home / "sourcebook.sqlite").exists():
                raise NoIndexError(f"no index in {config.home}; run `sourcebook ingest` first")
            quiet_libraries()
            index = open_index(config)
            _OPEN[config] = index
    if not index.built():
        raise NoIndexError(f"no index in {config.home}; run `sourcebook ingest` first")
    return index


def forget_open_indexes() -> None:
    """Drop cached handles (after a rebuild replaced what they point at)."""
    with _LOCK:
        for index in _OPEN.values():
            index.close()
        _OPEN.clear()


def ingest(
    paths: list[Path] | None = None,
    *,
    rebuild: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index in step with the sources folder (or with `paths` inside it).

    One folder path that lies outside the configured folder is ingested as *the* folder.
    """
    settings = settings or get_settings()
    quiet_libraries()
    folder = settings.sources
    if paths and len(paths) == 1 and paths[0].is_dir():
        inside = paths[0].resolve().is_relative_to(folder.resolve())
        if not inside or paths[0].resolve() == folder.resolve():
            folder, paths = paths[0], None
    if rebuild:
        forget_open_indexes()
    report = ingest_folder(
        index_config(settings),
        folder,
        paths=paths,
        rebuild=rebuild,
        max_file_mb=settings.max_file_mb,
        progress=progress,
    )
    if rebuild:
        forget_open_indexes()
    return report


def find(
    query: str,
    k: int = 5,
    *,
    sources: list[str] | None = None,
    settings: Settings | None = None,
) -> list[Hit]:
    """The `k` best passages for `query` by hybrid search."""
    return search(get_index(settings), query, k=k, sources=sources)


def index_status(settings: Settings | None = None) -> dict[str, object]:
    """What the index holds and how it was built, for the CLI and the UI's panel."""
    settings = settings or get_settings()
    config = index_config(settings)
    status: dict[str, object] = {
        "home": str(config.home),
        "folder": str(settings.sources.resolve()),
        "store": settings.chroma_url or "chroma on disk",
        "embedding_model": settings.embedding_model,
        "embedding_backend": settings.embedding_backend,
        "answerer": settings.llm,
        "documents": 0,
        "chunks": 0,
        "last_ingest": None,
    }
    try:
        index = get_index(settings)
    except NoIndexError:
        return status
    documents, chunks = index.textdb.counts()
    meta = index.textdb.get_meta()
    status.update(
        documents=documents,
        chunks=chunks,
        folder=meta.get("folder", status["folder"]),
        last_ingest=meta.get("last_ingest"),
    )
    return status

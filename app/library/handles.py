"""The index the settings name, opened once per process, and hybrid search over it."""

from __future__ import annotations

import logging
import threading

from app.settings import BUNDLED_CORPUS, Settings, get_settings
from store import Hit, Index, IndexConfig, SourcebookError, StoreError, open_index, search

log = logging.getLogger(__name__)

_OPEN: dict[IndexConfig, Index] = {}
_LOCK = threading.Lock()


class NoIndexError(StoreError):
    """Nothing has been ingested into this home yet."""


def index_config(settings: Settings) -> IndexConfig:
    return IndexConfig(
        home=settings.home.expanduser().resolve(),
        embedding_model=settings.embedding_model,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap=settings.chunk_overlap,
        chroma_url=settings.chroma_url,
        embedding_backend=settings.embedding_backend,
        encoder_cache=settings.cache_dir.expanduser(),
        calibration_folder=BUNDLED_CORPUS,
        database_url=settings.database_url or None,
    )


def get_index(settings: Settings | None = None) -> Index:
    """The index the settings name, opened once per process; an error if none was built."""
    settings = settings or get_settings()
    config = index_config(settings)
    with _LOCK:
        index = _OPEN.get(config)
        if index is None:
            if not config.database_url and not (config.home / "sourcebook.sqlite").exists():
                raise NoIndexError(f"no index in {config.home}; run `sourcebook ingest` first")
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


def find(
    query: str,
    k: int = 5,
    *,
    sources: list[str] | None = None,
    settings: Settings | None = None,
) -> list[Hit]:
    """The `k` best passages for `query` by hybrid search."""
    return search(get_index(settings), query, k=k, sources=sources)


def warm_up(settings: Settings | None = None) -> None:
    """Open the index and load the embedding model now, so the first question does not wait."""
    try:
        find("warm up", k=1, settings=settings)
    except SourcebookError as e:
        log.warning("index not ready yet: %s", e)

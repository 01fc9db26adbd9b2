"""The index: embeddings, Chroma, the text store (SQLite, or PostgreSQL shared by several servers),
and hybrid search. Imports nothing of ours."""

from store.config import IndexConfig
from store.embeddings import Embedder, load_model, make_embeddings, resolve_model_path
from store.errors import (
    BackendUnavailable,
    IndexBusyError,
    IndexMismatchError,
    SourcebookError,
    StoreError,
    StoreUnavailableError,
)
from store.index import Index, Synced
from store.lock import ingest_lock
from store.opening import delete_index, followed_folder, open_index
from store.pg import shown as shown_url
from store.pgsessions import DatabaseSessions
from store.search import Hit, search
from store.textstore import StoredText

__all__ = [
    "BackendUnavailable",
    "DatabaseSessions",
    "Embedder",
    "Hit",
    "Index",
    "IndexBusyError",
    "IndexConfig",
    "IndexMismatchError",
    "SourcebookError",
    "StoreError",
    "StoreUnavailableError",
    "StoredText",
    "Synced",
    "delete_index",
    "followed_folder",
    "ingest_lock",
    "load_model",
    "make_embeddings",
    "open_index",
    "resolve_model_path",
    "search",
    "shown_url",
]

"""The index: embeddings, Chroma, the SQLite side, and hybrid search. Imports nothing of ours."""

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
from store.index import Index, Synced, delete_index, followed_folder, open_index
from store.lock import ingest_lock
from store.search import Hit, search
from store.textdb import StoredText

__all__ = [
    "BackendUnavailable",
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
]

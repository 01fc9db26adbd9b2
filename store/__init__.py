"""The index: embeddings, Chroma, the SQLite side, and hybrid search. Imports nothing of ours."""

from store.embeddings import (
    SentenceTransformerEmbeddings,
    load_model,
    make_embeddings,
    resolve_model_path,
)
from store.errors import (
    IndexBusyError,
    IndexMismatchError,
    StoreError,
    StoreUnavailableError,
)
from store.index import (
    Index,
    IndexConfig,
    check_build,
    delete_index,
    ingest_lock,
    open_index,
)
from store.search import Hit, search
from store.textdb import StoredText, TextDB

__all__ = [
    "Hit",
    "Index",
    "IndexBusyError",
    "IndexConfig",
    "IndexMismatchError",
    "SentenceTransformerEmbeddings",
    "StoreError",
    "StoreUnavailableError",
    "StoredText",
    "TextDB",
    "check_build",
    "delete_index",
    "ingest_lock",
    "load_model",
    "make_embeddings",
    "open_index",
    "resolve_model_path",
    "search",
]

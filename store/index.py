"""An open index: what callers may ask of it. Chroma, the text store (SQLite or PostgreSQL), the
keyword index and LangChain's record manager stay inside; this class is the one place that keeps
them in step."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from store.config import IndexConfig
from store.embeddings import CachedEmbeddings, Embedder
from store.errors import StoreError, StoreUnavailableError
from store.keyword import KeywordIndex
from store.textstore import StoredText, TextStore
from store.vectors import SyncedStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Synced:
    """What one pass of the indexing API changed, in chunks."""

    added: int
    deleted: int
    unchanged: int


class Index:
    """One open index. Callers use these methods, never its SQLite or Chroma objects."""

    def __init__(
        self,
        config: IndexConfig,
        textdb: TextStore,
        model: Embedder,
        chroma: Callable[[Embeddings], Any],
    ) -> None:
        self.config = config
        self._textdb = textdb
        self._model = model
        self._cached = CachedEmbeddings(model, textdb.get_vectors, textdb.put_vectors)
        self._keywords = KeywordIndex(config.home, textdb)
        self._vectors = SyncedStore(chroma(self._cached), textdb, self._keywords, self._cached)
        self._records: Any = None

    # -- what it is
    @property
    def backend(self) -> str:
        """The encoder backend that really runs (after any fallback to torch)."""
        return self._model.backend

    @property
    def model_loaded(self) -> bool:
        """Whether the embedding model is in memory: nothing that embeds nothing loads it."""
        return self._model.loaded

    def built(self) -> bool:
        return bool(self._textdb.get_meta().get("embedding_model"))

    def meta(self) -> dict[str, str]:
        """The settings it was built with, its folder and its last ingest."""
        return self._textdb.get_meta()

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        return self._textdb.counts()

    def sources(self) -> list[str]:
        return self._textdb.sources()

    def document(self, source: str) -> StoredText | None:
        """The text that the indexed chunks of `source` were cut from."""
        return self._textdb.text_of_source(source)

    def sections(self, source: str) -> list[dict[str, Any]]:
        """Where the pages, slides, rows or headings of indexed `source` begin (no text read)."""
        return self._textdb.sections_of_source(source)

    # -- reading
    @property
    def embeddings(self) -> Embeddings:
        """The embedding model (LangChain's interface), for questions and passages alike."""
        return self._model

    def term_statistics(self, terms: list[str]) -> tuple[int, dict[str, int]]:
        """(chunks in all, how many chunks hold each term after the keyword index's stemming)."""
        return self._textdb.chunk_count(), self._keywords.document_frequencies(terms)

    def keyword_search(
        self, query: str, k: int, sources: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score), best first."""
        return self._keywords.search(query, k, sources)

    def nearest(
        self, vector: list[float], k: int, sources: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the chunks nearest `vector`, best first."""
        where: dict[str, Any] | None = {"source": {"$in": sources}} if sources else None
        return self._vectors.nearest(vector, k, where)

    def chunks(self, chunk_ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """chunk_id -> (text, metadata), for those that exist."""
        return self._textdb.get_chunks(chunk_ids)

    def vector_ids(self) -> list[str]:
        """Every chunk id the vector half holds (to check both halves agree)."""
        return self._vectors.ids()

    def keyword_ids(self) -> list[str]:
        """Every chunk id the keyword index holds (to check it against the chunk table)."""
        return self._keywords.ids()

    # -- what an ingest needs
    def count_tokens(self, text: str) -> int:
        """Word pieces of the embedding model in `text`: chunks are measured in them."""
        return self._model.count_tokens(text)

    @property
    def texts_embedded(self) -> int:
        """Texts that went to the model since the index was opened (the rest came from cache)."""
        return self._cached.texts_embedded

    def indexed_files(self) -> dict[str, str]:
        """source -> doc_hash, as of the last ingest that finished."""
        return self._textdb.indexed_files()

    def known_hash(self, source: str, size: int, mtime_ns: int) -> str | None:
        """The content hash of `source` if it was indexed with this size and mtime."""
        return self._textdb.file_hash(source, size, mtime_ns)

    def stored_chunks(
        self, source: str, doc_hash: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """(text, metadata) of the indexed chunks of `source` (of one version of it), in order."""
        return self._textdb.stored_chunks(source, doc_hash)

    def text(self, doc_hash: str) -> StoredText | None:
        return self._textdb.get_text(doc_hash)

    def put_text(self, text: StoredText) -> None:
        self._textdb.put_text(text)

    def begin_ingest(self, folder: Path) -> None:
        self._textdb.set_meta({**self.config.build_key, "folder": str(folder)})

    def embed_ahead(self, docs: Iterable[Document], batch: int) -> Iterator[Document]:
        """`docs`, after embedding the texts of each batch that the vector cache lacks: run in
        a thread of its own, it keeps the encoder busy while `sync` writes."""
        pending: list[Document] = []
        for doc in docs:
            pending.append(doc)
            if len(pending) == batch:
                self._cached.warm([d.page_content for d in pending])
                yield from pending
                pending = []
        if pending:
            self._cached.warm([d.page_content for d in pending])
            yield from pending

    def sync(self, docs: Iterable[Document], *, scoped: bool, batch_size: int) -> Synced:
        """Bring the chunks in step with `docs` through LangChain's indexing API: new chunks are
        added, unchanged ones skipped, and the chunks of every source seen (`scoped`) or of
        every source at all that `docs` no longer yield are deleted."""
        from langchain_core.indexing import index as langchain_index

        with records_errors(self.config):
            self._forget_unwritten()
            result = langchain_index(
                docs,
                self._record_manager(),
                self._vectors,
                cleanup="scoped_full" if scoped else "full",
                source_id_key="source",
                key_encoder="sha256",
                batch_size=batch_size,
            )
        self._vectors.flush()
        return Synced(result["num_added"], result["num_deleted"], result["num_skipped"])

    def _forget_unwritten(self) -> None:
        """Chunks the record manager lists but the chunk table lacks: a writer killed while it
        held back a document's first chunks (SyncedStore) recorded them unwritten. Forgotten,
        they are written again by this run."""
        self._vectors.drop_held()  # of a run that failed on this handle: half a document
        records = self._record_manager()
        keys = records.list_keys()
        missing = sorted(set(keys) - self._textdb.existing_chunk_ids(keys)) if keys else []
        if missing:
            log.info("%d chunks recorded but never written: writing them again", len(missing))
            records.delete_keys(missing)

    def remove_sources(self, sources: list[str]) -> int:
        """Delete every chunk of `sources`; returns how many."""
        with records_errors(self.config):
            records = self._record_manager()
            keys = records.list_keys(group_ids=sources) if sources else []
            if keys:
                self._vectors.delete(keys)
                records.delete_keys(keys)
        self._textdb.forget_files(sources)
        return len(keys)

    def finish_ingest(self, files: dict[str, tuple[str, int, int]], removed: list[str]) -> None:
        """Remember each ingested file's (doc_hash, size, mtime), forget removed ones, drop
        texts no chunk refers to, and stamp the time."""
        self._textdb.remember_files(files)
        self._textdb.forget_files(removed)
        self._textdb.prune()
        self._textdb.set_meta({"last_ingest": datetime.now(UTC).isoformat(timespec="seconds")})

    def add_embedded(
        self, ids: list[str], documents: list[Document], vectors: list[list[float]]
    ) -> None:
        """Add chunks whose vectors are known already (benchmarks fill large indexes so)."""
        self._vectors.add_embedded(ids, documents, vectors)

    def close(self) -> None:
        self._keywords.close()
        self._textdb.close()

    def _record_manager(self) -> Any:
        """LangChain's SQL record manager: which chunk ids each source holds, and since when."""
        if self._records is None:
            self._records = make_record_manager(self.config)
        return self._records

    def check_vectors(self) -> None:
        """The SQLite side and Chroma must hold the same index; a wiped or swapped Chroma store
        (another server, a deleted collection) would otherwise silently halve every search."""
        chunks = self._textdb.chunk_count()
        if chunks and self._vectors.count() == 0:
            raise StoreError(
                f"the index in {self._textdb.where} has {chunks} chunks but its Chroma collection "
                f"{self.config.collection_name} is empty (another Chroma store?); run "
                "`sourcebook ingest --rebuild`"
            )


@contextmanager
def records_errors(config: IndexConfig) -> Iterator[None]:
    """The record manager's database lost (it speaks SQLAlchemy), in our words."""
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as e:
        if not config.database_url:
            raise
        from store.pg import first_line, shown

        raise StoreUnavailableError(
            f"the PostgreSQL database {shown(config.database_url)} is unreachable while "
            f"writing the records: {first_line(e.orig or e)}"
        ) from e


def make_record_manager(config: IndexConfig) -> Any:
    """LangChain's SQL record manager, in the home's records.sqlite or in the shared database."""
    from langchain_classic.indexes import SQLRecordManager

    if config.database_url:
        from store.pg import pg_errors, sqlalchemy_url

        with pg_errors(config.database_url, "opening the records"):
            records = SQLRecordManager(
                config.collection_name, db_url=sqlalchemy_url(config.database_url)
            )
            records.create_schema()
        return records
    db = config.home / "records.sqlite"
    records = SQLRecordManager(config.collection_name, db_url=f"sqlite:///{db}")
    records.create_schema()
    return records

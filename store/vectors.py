"""The Chroma half of an index: the client, its errors in our words, and the one vector store
through which every write reaches Chroma, the SQLite chunk table and the keyword index."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from store.errors import StoreError, StoreUnavailableError
from store.keyword import KeywordIndex
from store.textstore import ChunkRow, TextStore


@contextmanager
def chroma_errors(what: str) -> Iterator[None]:
    """Turn a lost Chroma server or a full disk into one clear error."""
    import httpx
    from chromadb.errors import InternalError

    try:
        yield
    except (httpx.TransportError, ConnectionError) as e:
        raise StoreUnavailableError(f"the Chroma server is unreachable while {what}: {e}") from e
    except InternalError as e:  # Chroma on disk reports its SQLite's errors as InternalError
        if "disk is full" in str(e) or "No space left" in str(e):
            raise StoreError(
                f"the disk holding the index is full ({what}); free some space: an interrupted "
                "ingest resumes where it stopped"
            ) from e
        raise
    except ValueError as e:
        if "Could not connect" in str(e):
            raise StoreUnavailableError(f"the Chroma server is unreachable while {what}") from e
        raise


# chromadb 1.5.9 builds a PersistentClient's shared system without a lock: two threads opening
# the same path at once (the UI reading the index while a watcher's ingest opens it) fail with
# AttributeError 'RustBindingsAPI' object has no attribute 'bindings' or a KeyError (12 of 20
# tries of two threads on a new path, checked here). One opening at a time per process.
_OPENING = threading.Lock()


def make_chroma_client(chroma_url: str | None, path: str) -> Any:
    """Chroma on disk at `path`, or the server at `chroma_url`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not chroma_url:
        with _OPENING, chroma_errors("opening the index"):
            return chromadb.PersistentClient(path=path, settings=chroma_settings)
    url = urlparse(chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise StoreError(f"SOURCEBOOK_CHROMA_URL={chroma_url!r} is not http://HOST:PORT")
    with chroma_errors(f"connecting to {chroma_url}"):
        return chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )


def open_collection(
    client: Any, name: str, embeddings: Embeddings, metadata: dict[str, str]
) -> Any:
    """LangChain's Chroma over collection `name` (cosine space), created if need be."""
    from langchain_chroma import Chroma

    with chroma_errors("opening the collection"):
        return Chroma(
            collection_name=name,
            embedding_function=embeddings,
            client=client,
            collection_metadata={"hnsw:space": "cosine", **metadata},
        )


def delete_collections(client: Any, names: set[str]) -> None:
    with chroma_errors("deleting the collection"):
        existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        for name in names & existing:
            client.delete_collection(name)


def empty_collection(client: Any, name: str) -> None:
    """Delete every vector of collection `name` but keep the collection: other servers' handles
    on it stay good (a deleted and recreated collection is a new one to them)."""
    with chroma_errors("emptying the collection"):
        existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        if name not in existing:
            return
        collection = client.get_collection(name)
        while ids := collection.get(include=[], limit=5000)["ids"]:
            collection.delete(ids=ids)


class SyncedStore(VectorStore):
    """The vector store that LangChain's `index()` writes through: every add and delete goes to
    Chroma, to the chunk table and then to the keyword index, which follows the table's log of
    changes, so keyword and dense search never disagree.

    A document's chunks reach the table in one transaction, so no search (on any server) sees
    half a document: the chunks of the last document of a batch, which may go on in the next
    batch, are held back until the next batch or `flush()`. A writer killed meanwhile leaves
    them in Chroma and in the record manager only, and the next run writes them again
    (Index._forget_unwritten)."""

    def __init__(
        self, chroma: Any, textdb: TextStore, keywords: KeywordIndex, embeddings: Embeddings
    ) -> None:
        self.chroma = chroma
        self.textdb = textdb
        self.keywords = keywords
        self._embeddings = embeddings
        self._held: list[ChunkRow] = []

    @property
    def embeddings(self) -> Embeddings:
        return self._embeddings

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        ids: list[str] = kwargs["ids"]
        # Chroma first, then SQLite: a crash between the two leaves vectors the SQLite side does
        # not list yet (the rerun upserts both, same ids), never chunks without vectors, which
        # the index would take for a lost Chroma store.
        with chroma_errors("adding chunks"):
            added = list(self.chroma.add_documents(documents, ids=ids))
        rows = self._held + _rows(ids, documents)
        last = rows[-1][1]
        done = [r for r in rows if r[1] != last]
        self._held = [r for r in rows if r[1] == last]
        if done:
            self.textdb.upsert_chunks(done)
            self.keywords.catch_up()
        return added

    def drop_held(self) -> None:
        self._held = []

    def flush(self) -> None:
        """Write the chunks held back: the stream of documents has ended."""
        if self._held:
            self.textdb.upsert_chunks(self._held)
            self._held = []
            self.keywords.catch_up()

    def add_embedded(
        self, ids: list[str], documents: list[Document], vectors: list[list[float]]
    ) -> None:
        """Add chunks whose vectors are already known (no model call)."""
        with chroma_errors("adding chunks"):
            self.chroma._collection.add(
                ids=ids,
                embeddings=vectors,
                documents=[d.page_content for d in documents],
                metadatas=[d.metadata for d in documents],
            )
        self.textdb.upsert_chunks(_rows(ids, documents))
        self.keywords.catch_up()

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if ids:
            with chroma_errors("deleting chunks"):
                self.chroma.delete(ids=ids)
            self.textdb.delete_chunks(ids)
            self.keywords.catch_up()
        return True

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        with chroma_errors("searching"):
            return list(self.chroma.similarity_search(query, k=k, **kwargs))

    def nearest(
        self, vector: list[float], k: int, where: dict[str, Any] | None
    ) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the `k` nearest chunks, best first."""
        with chroma_errors("searching"):
            found = self.chroma.similarity_search_by_vector_with_relevance_scores(
                vector, k=k, filter=where
            )
        # Chroma returns cosine *distance* for an "hnsw:space: cosine" collection.
        return [(doc.id, 1.0 - float(distance)) for doc, distance in found if doc.id]

    def ids(self) -> list[str]:
        """Every chunk id Chroma holds."""
        with chroma_errors("listing chunks"):
            return list(self.chroma.get(include=[])["ids"])

    def count(self) -> int:
        with chroma_errors("counting vectors"):
            return int(self.chroma._collection.count())

    @classmethod
    def from_texts(cls, *args: Any, **kwargs: Any) -> SyncedStore:
        raise NotImplementedError("open an index with store.open_index()")


def _rows(ids: list[str], documents: list[Document]) -> list[ChunkRow]:
    return [
        (i, d.metadata["source"], d.metadata["doc_hash"], d.page_content, d.metadata)
        for i, d in zip(ids, documents, strict=True)
    ]

"""An open index: Chroma vectors, the SQLite side, and the record manager, kept in step."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from store.embeddings import CachedEmbeddings, SentenceTransformerEmbeddings, load_model
from store.errors import IndexBusyError, IndexMismatchError, StoreError, StoreUnavailableError
from store.textdb import TextDB

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexConfig:
    """What an index is built with; a different value means a different vector space."""

    home: Path
    embedding_model: str
    chunk_tokens: int
    chunk_overlap: int
    chroma_url: str | None = None
    embedding_backend: str = "torch"
    # Where exported encoders are cached, and the local text int8 calibrates on: not part of the
    # build key (the backend is), since they only say how to get the same weights.
    encoder_cache: Path | None = None
    calibration_folder: Path | None = None

    @property
    def build_key(self) -> dict[str, str]:
        return {
            "embedding_model": self.embedding_model,
            "embedding_backend": self.embedding_backend,
            "chunk_tokens": str(self.chunk_tokens),
            "chunk_overlap": str(self.chunk_overlap),
        }

    @property
    def collection_name(self) -> str:
        """Derived from the build settings, so that two vector spaces never share a collection,
        and from the home's id, so that two homes on one Chroma server never share one either."""
        slug = re.sub(r"[^a-zA-Z0-9]+", "-", Path(self.embedding_model).name).strip("-").lower()
        key = self.build_key
        if key["embedding_backend"] == "torch":
            del key["embedding_backend"]  # torch indexes predate the key: keep their names
        digest = hashlib.sha256(repr(sorted(key.items())).encode()).hexdigest()[:10]
        return f"sourcebook-{slug[:40]}-{digest}-{home_id(self.home)}"


def home_id(home: Path) -> str:
    """A random id for an index home, made the first time it is asked for."""
    path = home / "index-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        new = os.urandom(4).hex()
        tmp = home / f".index-id.{os.getpid()}"
        tmp.write_text(new)
        tmp.replace(path)
        return path.read_text().strip()


@contextmanager
def chroma_errors(what: str) -> Iterator[None]:
    """Turn a lost Chroma server into one clear error."""
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


def make_chroma_client(config: IndexConfig) -> Any:
    """Chroma on disk under the home, or the server at `chroma_url`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not config.chroma_url:
        with chroma_errors("opening the index"):
            return chromadb.PersistentClient(
                path=str(config.home / "chroma"), settings=chroma_settings
            )
    url = urlparse(config.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise StoreError(f"SOURCEBOOK_CHROMA_URL={config.chroma_url!r} is not http://HOST:PORT")
    with chroma_errors(f"connecting to {config.chroma_url}"):
        return chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )


class SyncedStore(VectorStore):
    """The vector store that LangChain's `index()` writes through: every add and delete goes to
    Chroma and to the SQLite chunk table alike, so keyword and dense search never disagree."""

    def __init__(self, chroma: Any, textdb: TextDB, embeddings: Embeddings) -> None:
        self.chroma = chroma
        self.textdb = textdb
        self._embeddings = embeddings

    @property
    def embeddings(self) -> Embeddings:
        return self._embeddings

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        ids: list[str] = kwargs["ids"]
        rows = [
            (i, d.metadata["source"], d.metadata["doc_hash"], d.page_content, d.metadata)
            for i, d in zip(ids, documents, strict=True)
        ]
        # Chroma first, then SQLite: a crash between the two leaves vectors the SQLite side does
        # not list yet (the rerun upserts both, same ids), never chunks without vectors, which
        # `check_vectors` would take for a lost Chroma store.
        with chroma_errors("adding chunks"):
            added = list(self.chroma.add_documents(documents, ids=ids))
        self.textdb.upsert_chunks(rows)
        return added

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if ids:
            with chroma_errors("deleting chunks"):
                self.chroma.delete(ids=ids)
            self.textdb.delete_chunks(ids)
        return True

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        with chroma_errors("searching"):
            return list(self.chroma.similarity_search(query, k=k, **kwargs))

    @classmethod
    def from_texts(cls, *args: Any, **kwargs: Any) -> SyncedStore:
        raise NotImplementedError("open an index with store.open_index()")


@dataclass
class Index:
    """Everything one index is made of, opened once."""

    config: IndexConfig
    textdb: TextDB
    model: SentenceTransformerEmbeddings
    embeddings: CachedEmbeddings
    store: SyncedStore
    _records: Any = field(default=None, repr=False)

    @property
    def records(self) -> Any:
        """LangChain's SQL record manager: which chunk ids each source holds, and since when."""
        if self._records is None:
            from langchain_classic.indexes import SQLRecordManager

            db = self.config.home / "records.sqlite"
            self._records = SQLRecordManager(self.config.collection_name, db_url=f"sqlite:///{db}")
            self._records.create_schema()
        return self._records

    def built(self) -> bool:
        return bool(self.textdb.get_meta().get("embedding_model"))

    def close(self) -> None:
        self.textdb.close()


def check_build(textdb: TextDB, config: IndexConfig) -> None:
    """Refuse to mix an index's vectors with another model's or another chunking's."""
    meta = {"embedding_backend": "torch", **textdb.get_meta()}  # older indexes: torch
    if not meta.get("embedding_model"):
        return
    wanted = config.build_key
    diff = [f"{k} {meta.get(k)!r} (now {v!r})" for k, v in wanted.items() if meta.get(k) != v]
    if diff:
        raise IndexMismatchError(
            f"the index in {config.home} was built with {', '.join(diff)}; "
            "run `sourcebook ingest --rebuild` to rebuild it with the current settings"
        )


def open_index(config: IndexConfig, *, model: SentenceTransformerEmbeddings | None = None) -> Index:
    """Open (creating if need be) the index that `config` describes."""
    from langchain_chroma import Chroma

    textdb = TextDB(config.home / "sourcebook.sqlite")
    check_build(textdb, config)
    model = model or load_model(
        config.embedding_model,
        config.embedding_backend,
        cache_dir=config.encoder_cache,
        calibration_folder=config.calibration_folder,
    )
    if model.backend != config.embedding_backend:  # fell back to torch: a different space
        config = replace(config, embedding_backend=model.backend)
        check_build(textdb, config)
    cached = CachedEmbeddings(model, textdb.get_vectors, textdb.put_vectors)
    try:
        client = make_chroma_client(config)
    except Exception as e:
        if textdb.read_only and not config.chroma_url:
            raise StoreError(
                f"the index in {config.home} is on a read-only file system, and Chroma on disk "
                "cannot open it there; make it writable, or serve its vectors from a Chroma "
                "server (SOURCEBOOK_CHROMA_URL)"
            ) from e
        raise
    with chroma_errors("opening the collection"):
        chroma = Chroma(
            collection_name=config.collection_name,
            embedding_function=cached,
            client=client,
            collection_metadata={"hnsw:space": "cosine", **config.build_key},
        )
    index = Index(config, textdb, model, cached, SyncedStore(chroma, textdb, cached))
    check_vectors(index)
    return index


def check_vectors(index: Index) -> None:
    """The SQLite side and Chroma must hold the same index; a wiped or swapped Chroma store
    (another server, a deleted collection) would otherwise silently halve every search."""
    chunks = index.textdb.chunk_count()
    if not chunks:
        return
    with chroma_errors("counting vectors"):
        vectors = index.store.chroma._collection.count()
    if vectors == 0:
        raise StoreError(
            f"the index in {index.config.home} has {chunks} chunks but its Chroma collection "
            f"{index.config.collection_name} is empty (another Chroma store?); run "
            "`sourcebook ingest --rebuild`"
        )


def delete_index(config: IndexConfig) -> None:
    """Remove an index entirely: its collection (as built, and as now configured), its records
    and its SQLite side."""
    names = {config.collection_name}
    db = config.home / "sourcebook.sqlite"
    if db.exists():
        meta = TextDB(db).get_meta()
        if meta.get("embedding_model"):
            built = IndexConfig(
                config.home,
                meta["embedding_model"],
                int(meta["chunk_tokens"]),
                int(meta["chunk_overlap"]),
                embedding_backend=meta.get("embedding_backend", "torch"),
            )
            names.add(built.collection_name)
    client = make_chroma_client(config)
    with chroma_errors("deleting the collection"):
        existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        for name in names & existing:
            client.delete_collection(name)
    for name in ("sourcebook.sqlite", "records.sqlite"):
        for suffix in ("", "-wal", "-shm"):
            path = config.home / (name + suffix)
            if path.exists():
                path.unlink()


@contextmanager
def ingest_lock(home: Path) -> Iterator[None]:
    """One ingest at a time per index; a second one is told who holds it."""
    path = home / "ingest.lock"
    try:
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise StoreError(
            f"cannot write to the index folder {home} ({e.strerror or e}); an ingest needs to "
            "write there (SOURCEBOOK_HOME); the index was left as it was"
        ) from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise IndexBusyError(
                f"another ingest (pid {holder}) is writing to {home}; wait for it to finish"
            ) from e
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)

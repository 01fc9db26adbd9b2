"""Moving an index from SQLite (a home, its vectors in Chroma on disk or on a server) into
PostgreSQL and a Chroma server, for several servers to share. Resumable: every write is an
upsert, and the build settings that make the target an index are written last."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from store.config import IndexConfig, home_id
from store.errors import StoreError
from store.index import make_record_manager
from store.lock import ingest_lock
from store.opening import built_config, open_text
from store.textdb import open_read_only
from store.textstore import StoredText, TextStore
from store.vectors import chroma_errors, make_chroma_client, open_collection

log = logging.getLogger(__name__)

PAGE = 1000


@dataclass(frozen=True)
class Migrated:
    """What a migration copied."""

    documents: int
    chunks: int
    vectors: int
    recorded: int  # keys of the record manager
    texts: int


def migrate(source: IndexConfig, target: IndexConfig) -> Migrated:
    """Copy the SQLite index of `source.home` (vectors from `source.chroma_url`, else Chroma on
    disk in the home) into `target.database_url` and the Chroma server `target.chroma_url`."""
    db = source.home / "sourcebook.sqlite"
    if not db.exists():
        raise StoreError(f"no index in {source.home} to migrate (no sourcebook.sqlite there)")
    if not target.database_url or not target.chroma_url:
        raise StoreError(
            "migrate needs SOURCEBOOK_DATABASE_URL and SOURCEBOOK_CHROMA_URL: where the index goes"
        )
    conn = open_read_only(db) if not _writable(db) else sqlite3.connect(db)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if not meta.get("embedding_model"):
            raise StoreError(f"the index in {source.home} was never built: nothing to migrate")
        source = replace(built_config(source, meta), index_id=home_id(source.home))
        with ingest_lock(target.home, target.database_url):
            return _copy(conn, source, target, meta)
    finally:
        conn.close()


def _writable(db: Path) -> bool:
    return os.access(db, os.W_OK) and os.access(db.parent, os.W_OK)


def _copy(
    conn: sqlite3.Connection, source: IndexConfig, target: IndexConfig, meta: dict[str, str]
) -> Migrated:
    target = replace(
        built_config(target, meta), database_url=target.database_url, index_id=source.index_id
    )
    _, store = open_text(target)
    try:
        built = store.get_meta()
        if built.get("embedding_model"):
            raise StoreError(
                f"the database {store.where} already holds an index; migrate into an empty one"
            )
        # The home's id becomes the database's, so a collection already on this server is
        # the same collection.
        store.set_meta({"index_id": str(source.index_id)})
        vectors = _copy_vectors(source, target)
        texts = _copy_rows(conn, store, "texts")
        _copy_rows(conn, store, "files")
        store.put_vectors(dict(_rows(conn, "SELECT key, vector FROM vectors")))
        chunks = 0
        for part in _pages(conn, "SELECT chunk_id, source, doc_hash, text, metadata FROM chunks"):
            store.upsert_chunks([(i, s, h, t, json.loads(m)) for i, s, h, t, m in part])
            chunks += len(part)
        records = _copy_records(source, target)
        store.set_meta(meta)  # last: now the database holds a built index
        documents = store.counts()[0]
    finally:
        store.close()
    return Migrated(documents, chunks, vectors, records, texts)


def _rows(conn: sqlite3.Connection, sql: str) -> Iterator[Any]:
    yield from conn.execute(sql)


def _pages(conn: sqlite3.Connection, sql: str) -> Iterator[list[Any]]:
    cursor = conn.execute(sql)
    while part := cursor.fetchmany(PAGE):
        yield part


def _copy_rows(conn: sqlite3.Connection, store: TextStore, table: str) -> int:
    """texts or files, as they are."""
    n = 0
    if table == "texts":
        for row in _rows(conn, "SELECT doc_hash, text, title, sections FROM texts"):
            store.put_text(StoredText(row[0], row[1], row[2], json.loads(row[3])))
            n += 1
        return n
    files = {s: (h, size, mtime) for s, h, size, mtime in _rows(conn, "SELECT * FROM files")}
    store.remember_files(files)
    return len(files)


def _copy_records(source: IndexConfig, target: IndexConfig) -> int:
    """LangChain's records of which chunk ids each source holds."""
    path = source.home / "records.sqlite"
    if not path.exists():
        return 0
    records = make_record_manager(target)
    conn = sqlite3.connect(path)
    n = 0
    try:
        sql = "SELECT key, group_id FROM upsertion_record WHERE namespace = ?"
        cursor = conn.execute(sql, (source.collection_name,))
        while part := cursor.fetchmany(PAGE):
            records.update([k for k, _ in part], group_ids=[g for _, g in part])
            n += len(part)
    finally:
        conn.close()
    return n


def _copy_vectors(source: IndexConfig, target: IndexConfig) -> int:
    """The vectors, from the source's Chroma into the server's collection (nothing to do when
    both are the same collection)."""
    if source.chroma_url == target.chroma_url and source.collection_name == target.collection_name:
        return 0
    client = make_chroma_client(source.chroma_url, str(source.home / "chroma"))
    with chroma_errors("reading the vectors to migrate"):
        if source.collection_name not in {
            c if isinstance(c, str) else c.name for c in client.list_collections()
        }:
            raise StoreError(
                f"the vectors of the index in {source.home} are not in "
                f"{source.chroma_url or 'its Chroma on disk'}: name the Chroma server it used "
                "(--from-chroma-url)"
            )
        found = client.get_collection(source.collection_name)
    server = make_chroma_client(target.chroma_url, "")
    into = open_collection(server, target.collection_name, _NoEmbeddings(), target.build_key)
    n, offset = 0, 0
    while True:
        with chroma_errors("copying the vectors"):
            part = found.get(
                include=["embeddings", "documents", "metadatas"], limit=PAGE, offset=offset
            )
            if not part["ids"]:
                break
            into._collection.upsert(
                ids=part["ids"],
                embeddings=part["embeddings"],
                documents=part["documents"],
                metadatas=part["metadatas"],
            )
        n += len(part["ids"])
        offset += PAGE
    return n


class _NoEmbeddings(Embeddings):
    """Vectors are copied, never computed: a migration loads no model."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise StoreError("a migration computes no vectors")

    def embed_query(self, text: str) -> list[float]:
        raise StoreError("a migration computes no vectors")

"""The PostgreSQL side of an index that several servers share: the same tables as textdb.py, and
a keyword log that is never forgotten by a follower (each server's keyword index follows it
from its own position), only pruned by age, past which a follower rebuilds from the table."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from store.pg import SCHEMA_LOCK, make_pool, pg_errors, shown
from store.textstore import ChunkRow, StoredText

log = logging.getLogger(__name__)

KEEP_LOG = "7 days"  # a server down for longer rebuilds its keyword index when it is back

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS texts (
    doc_hash TEXT PRIMARY KEY, text TEXT NOT NULL, title TEXT NOT NULL, sections TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY, doc_hash TEXT NOT NULL, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid BIGSERIAL PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, source TEXT NOT NULL,
    doc_hash TEXT NOT NULL, text TEXT NOT NULL, metadata TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
-- Every change to the chunk table is logged in the same transaction, in commit order: there is
-- one writer at a time (the advisory lock in pg.py) and its transactions follow one another.
CREATE TABLE IF NOT EXISTS keyword_log (
    seq BIGSERIAL PRIMARY KEY, chunk_id TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS chunk_total (id INT PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);
INSERT INTO chunk_total VALUES (1, 0) ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION sourcebook_chunk_logged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO keyword_log (chunk_id) VALUES (NEW.chunk_id);
        UPDATE chunk_total SET n = n + 1;
    ELSE
        INSERT INTO keyword_log (chunk_id) VALUES (OLD.chunk_id);
        UPDATE chunk_total SET n = n - 1;
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS chunks_logged ON chunks;
CREATE TRIGGER chunks_logged AFTER INSERT OR DELETE ON chunks
    FOR EACH ROW EXECUTE FUNCTION sourcebook_chunk_logged();
CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BYTEA NOT NULL);
"""


class PgTextDB:
    """One PostgreSQL database (one index), shared by the threads of one process through a pool
    of connections and by every server that names it."""

    read_only = False
    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = shown(url)
        self._id: str | None = None
        self._pool = make_pool(url)
        with self._tx("opening the index") as c:
            c.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            exists = c.execute("SELECT to_regclass('keyword_log') IS NOT NULL").fetchone()[0]
            if not exists:  # created once; later opens take no lock on the tables
                c.execute(SCHEMA)
                c.execute(
                    "INSERT INTO meta VALUES ('index_id', %s) ON CONFLICT DO NOTHING",
                    (os.urandom(4).hex(),),
                )

    @contextmanager
    def _tx(self, what: str = "reading the index") -> Iterator[Any]:
        with pg_errors(self.url, what), self._pool.connection() as conn:
            yield conn  # committed as the block ends, rolled back if it raises

    def close(self) -> None:
        self._pool.close()

    def index_id(self) -> str | None:
        """The database's own id (in the Chroma collection's name, as a home's id is); made
        with the tables, never changed."""
        if self._id is None:
            self._id = self.get_meta().get("index_id")
        return self._id

    # -- settings the index was built with
    def get_meta(self) -> dict[str, str]:
        with self._tx() as c:
            return dict(c.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        with self._tx("writing the index") as c:
            c.cursor().executemany(
                "INSERT INTO meta VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                list(values.items()),
            )

    # -- document texts
    def put_text(self, doc: StoredText) -> None:
        with self._tx("writing the index") as c:
            c.execute(
                "INSERT INTO texts VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (doc.doc_hash, doc.text, doc.title, json.dumps(doc.sections)),
            )

    def get_text(self, doc_hash: str) -> StoredText | None:
        with self._tx() as c:
            row = c.execute("SELECT * FROM texts WHERE doc_hash = %s", (doc_hash,)).fetchone()
        return StoredText(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def text_of_source(self, source: str) -> StoredText | None:
        with self._tx() as c:
            row = c.execute(
                "SELECT t.* FROM texts t WHERE t.doc_hash = "
                "(SELECT doc_hash FROM chunks WHERE source = %s LIMIT 1)",
                (source,),
            ).fetchone()
        return StoredText(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def sections_of_source(self, source: str) -> list[dict[str, Any]]:
        with self._tx() as c:
            row = c.execute(
                "SELECT sections FROM texts WHERE doc_hash = "
                "(SELECT doc_hash FROM chunks WHERE source = %s LIMIT 1)",
                (source,),
            ).fetchone()
        return list(json.loads(row[0])) if row else []

    # -- files
    def file_hash(self, source: str, size: int, mtime_ns: int) -> str | None:
        with self._tx() as c:
            row = c.execute(
                "SELECT doc_hash FROM files WHERE source = %s AND size = %s AND mtime_ns = %s",
                (source, size, mtime_ns),
            ).fetchone()
        return str(row[0]) if row else None

    def indexed_files(self) -> dict[str, str]:
        with self._tx() as c:
            return dict(c.execute("SELECT source, doc_hash FROM files").fetchall())

    def forget_files(self, sources: list[str]) -> None:
        with self._tx("writing the index") as c:
            c.execute("DELETE FROM files WHERE source = ANY(%s)", (sources,))

    def remember_files(self, files: dict[str, tuple[str, int, int]]) -> None:
        with self._tx("writing the index") as c:
            c.cursor().executemany(
                "INSERT INTO files VALUES (%s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET "
                "doc_hash = EXCLUDED.doc_hash, size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns",
                [(source, *known) for source, known in files.items()],
            )

    # -- chunks
    def stored_chunks(
        self, source: str, doc_hash: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        sql = "SELECT text, metadata FROM chunks WHERE source = %s"
        args: list[Any] = [source]
        if doc_hash:
            sql += " AND doc_hash = %s"
            args.append(doc_hash)
        with self._tx() as c:
            rows = [(t, json.loads(m)) for t, m in c.execute(sql, args)]
        return sorted(rows, key=lambda r: (r[1]["doc_hash"], r[1]["start"]))

    def upsert_chunks(self, rows: Iterable[ChunkRow]) -> None:
        rows = list(rows)
        with self._tx("writing chunks") as c:
            ids = [r[0] for r in rows]
            c.execute("DELETE FROM chunks WHERE chunk_id = ANY(%s)", (ids,))
            c.cursor().executemany(
                "INSERT INTO chunks (chunk_id, source, doc_hash, text, metadata) "
                "VALUES (%s, %s, %s, %s, %s)",
                [(i, s, h, t, json.dumps(m)) for i, s, h, t, m in rows],
            )

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        with self._tx("deleting chunks") as c:
            c.execute("DELETE FROM chunks WHERE chunk_id = ANY(%s)", (chunk_ids,))

    def get_chunks(self, chunk_ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        with self._tx() as c:
            rows = c.execute(
                "SELECT chunk_id, text, metadata FROM chunks WHERE chunk_id = ANY(%s)",
                (chunk_ids,),
            ).fetchall()
        return {cid: (text, json.loads(meta)) for cid, text, meta in rows}

    def existing_chunk_ids(self, chunk_ids: list[str]) -> set[str]:
        with self._tx() as c:
            sql = "SELECT chunk_id FROM chunks WHERE chunk_id = ANY(%s)"
            return {r[0] for r in c.execute(sql, (chunk_ids,))}

    def chunk_texts(self, chunk_ids: list[str]) -> dict[str, tuple[str, str]]:
        with self._tx() as c:
            rows = c.execute(
                "SELECT chunk_id, source, text FROM chunks WHERE chunk_id = ANY(%s)", (chunk_ids,)
            ).fetchall()
        return {cid: (source, text) for cid, source, text in rows}

    def chunk_rows(self, after: int, limit: int) -> list[tuple[int, str, str, str]]:
        with self._tx() as c:
            return list(
                c.execute(
                    "SELECT rowid, chunk_id, source, text FROM chunks WHERE rowid > %s "
                    "ORDER BY rowid LIMIT %s",
                    (after, limit),
                ).fetchall()
            )

    # -- the keyword log, followed by every server from its own position
    def keyword_changes(self, after: int, limit: int) -> tuple[int, list[str]]:
        with self._tx() as c:
            rows = c.execute(
                "SELECT seq, chunk_id FROM keyword_log WHERE seq > %s ORDER BY seq LIMIT %s",
                (after, limit),
            ).fetchall()
        return (rows[-1][0] if rows else after), list(dict.fromkeys(cid for _, cid in rows))

    def forget_keyword_changes(self, upto: int) -> None:
        """Nothing: other servers may not have applied them yet (prune() drops old ones)."""

    def forgotten_keyword_changes(self) -> int:
        """Entries up to this were pruned: a follower behind it must rebuild."""
        return int(self.get_meta().get("keyword_log_pruned", "0"))

    def last_keyword_change(self) -> int:
        with self._tx() as c:
            return int(c.execute("SELECT COALESCE(MAX(seq), 0) FROM keyword_log").fetchone()[0])

    def keyword_state(self, after: int) -> tuple[int, int]:
        """(chunks, log entries after `after`), in one snapshot."""
        with self._tx() as c:
            row = c.execute(
                "SELECT n, (SELECT COUNT(*) FROM keyword_log WHERE seq > %s) FROM chunk_total",
                (after,),
            ).fetchone()
        return int(row[0]), int(row[1])

    # -- the index as a whole
    def sources(self) -> list[str]:
        with self._tx() as c:
            return [r[0] for r in c.execute("SELECT DISTINCT source FROM chunks ORDER BY source")]

    def counts(self) -> tuple[int, int]:
        with self._tx() as c:
            row = c.execute("SELECT COUNT(DISTINCT source), COUNT(*) FROM chunks").fetchone()
        return int(row[0]), int(row[1])

    def chunk_count(self) -> int:
        with self._tx() as c:
            return int(c.execute("SELECT n FROM chunk_total").fetchone()[0])

    def prune(self) -> None:
        """Drop texts and file records no chunk refers to, and log entries past their age."""
        with self._tx("writing the index") as c:
            c.execute("DELETE FROM texts WHERE doc_hash NOT IN (SELECT doc_hash FROM chunks)")
            c.execute("DELETE FROM files WHERE source NOT IN (SELECT source FROM chunks)")
            gone = c.execute(
                "DELETE FROM keyword_log WHERE at < now() - %s::interval RETURNING seq",
                (KEEP_LOG,),
            ).fetchall()
            if gone:
                c.execute(
                    "INSERT INTO meta VALUES ('keyword_log_pruned', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (str(max(r[0] for r in gone)),),
                )

    def clear(self) -> None:
        """Forget every document and chunk; deleting the chunks logs them, so every server's
        keyword index follows. The index id and the log's numbering stay."""
        with self._tx("clearing the index") as c:
            c.execute("DELETE FROM chunks")
            for table in ("texts", "files", "vectors"):
                c.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table names
            c.execute("DELETE FROM meta WHERE key NOT IN ('index_id', 'keyword_log_pruned')")

    # -- vectors by content hash
    def get_vectors(self, keys: list[str]) -> dict[str, bytes]:
        with self._tx() as c:
            rows = c.execute("SELECT key, vector FROM vectors WHERE key = ANY(%s)", (keys,))
            return {k: bytes(v) for k, v in rows}

    def put_vectors(self, vectors: dict[str, bytes]) -> None:
        with self._tx("writing the index") as c:
            c.cursor().executemany(
                "INSERT INTO vectors VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                list(vectors.items()),
            )

"""The local SQLite side of an index: document texts, chunk rows (the source of truth for both
search halves) with the log of their changes that the keyword index follows, vectors by content
hash, and the index's own settings."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from store.errors import StoreError
from store.textstore import ChunkRow, StoredText

__all__ = ["StoredText", "TextDB", "on_read_only_fs", "open_read_only"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS texts (
    doc_hash TEXT PRIMARY KEY, text TEXT NOT NULL, title TEXT NOT NULL, sections TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY, doc_hash TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, source TEXT NOT NULL,
    doc_hash TEXT NOT NULL, text TEXT NOT NULL, metadata TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
-- Every change to the chunk table is logged in the same transaction: the keyword index (a tantivy
-- index beside this file) applies the log and then forgets it, so a process killed between the
-- two leaves a log to replay, never a keyword index that silently disagrees.
CREATE TABLE IF NOT EXISTS keyword_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT NOT NULL);
-- The number of chunks, kept by the same triggers: COUNT(*) reads a whole index (65 ms at
-- 300,000 chunks with a warm cache, ten times that cold), and every open and question needs it.
CREATE TABLE IF NOT EXISTS chunk_total (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS chunks_log_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO keyword_log (chunk_id) VALUES (new.chunk_id);
    UPDATE chunk_total SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS chunks_log_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO keyword_log (chunk_id) VALUES (old.chunk_id);
    UPDATE chunk_total SET n = n - 1; END;
-- Indexes made before the keyword index moved to tantivy kept an FTS5 table in step by triggers.
DROP TRIGGER IF EXISTS chunks_ai;
DROP TRIGGER IF EXISTS chunks_ad;
DROP TABLE IF EXISTS chunks_fts;
CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL);
"""


def on_read_only_fs(path: Path) -> bool:
    """True when `path` lies on a file system mounted read-only (root's writes fail there too)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def open_read_only(path: Path) -> sqlite3.Connection:
    """A query-only connection to an index on a read-only file system. A WAL database needs a
    writable `-shm` file to be read; on a read-only mount nothing can change the file, so SQLite
    may treat it as immutable (https://www.sqlite.org/uri.html#uriimmutable)."""
    uri = f"{path.resolve().as_uri()}?immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


class TextDB:
    """One SQLite file, safe to share between the threads of one process; its keyword log has
    one follower (the tantivy index beside it), which forgets what it applied."""

    shared = False

    def __init__(self, path: Path) -> None:
        self.read_only = path.exists() and on_read_only_fs(path)
        try:
            if self.read_only:
                self._conn = open_read_only(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.executescript(SCHEMA)
                if not self._conn.execute("SELECT 1 FROM chunk_total").fetchone():
                    with self._conn:  # counted once, in the transaction that starts the total
                        self._conn.execute(
                            "INSERT OR IGNORE INTO chunk_total SELECT 1, COUNT(*) FROM chunks"
                        )
        except (OSError, sqlite3.Error) as e:
            raise StoreError(f"cannot open the index database {path}: {e}") from e
        self.path = path
        self.where = str(path)
        self._lock = threading.RLock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                with self._conn:
                    yield self._conn
            except sqlite3.OperationalError as e:
                if "disk is full" in str(e):
                    raise StoreError(
                        f"the disk holding the index ({self.path}) is full; free some space: "
                        "an interrupted ingest resumes where it stopped"
                    ) from e
                hint = " (its file system is read-only)" if self.read_only else ""
                raise StoreError(f"index database {self.path}{hint}: {e}") from e

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def index_id(self) -> str | None:
        """None: a home's id lives in the home (config.home_id)."""
        return None

    def clear(self) -> None:
        """Forget every document and chunk (the file itself is removed by delete_index)."""
        with self._tx() as c:
            for table in ("chunks", "texts", "files", "meta", "keyword_log"):
                c.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table names

    # -- settings the index was built with
    def get_meta(self) -> dict[str, str]:
        with self._tx() as c:
            return dict(c.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        with self._tx() as c:
            c.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    # -- document texts, by the hash of the file they came from
    def put_text(self, doc: StoredText) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT OR IGNORE INTO texts VALUES (?, ?, ?, ?)",
                (doc.doc_hash, doc.text, doc.title, json.dumps(doc.sections)),
            )

    def get_text(self, doc_hash: str) -> StoredText | None:
        with self._tx() as c:
            row = c.execute("SELECT * FROM texts WHERE doc_hash = ?", (doc_hash,)).fetchone()
        return StoredText(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def text_of_source(self, source: str) -> StoredText | None:
        """The text that the indexed chunks of `source` were cut from."""
        with self._tx() as c:
            row = c.execute(
                "SELECT doc_hash FROM chunks WHERE source = ? LIMIT 1", (source,)
            ).fetchone()
        return self.get_text(row[0]) if row else None

    def sections_of_source(self, source: str) -> list[dict[str, Any]]:
        with self._tx() as c:
            row = c.execute(
                "SELECT sections FROM texts WHERE doc_hash = "
                "(SELECT doc_hash FROM chunks WHERE source = ? LIMIT 1)",
                (source,),
            ).fetchone()
        return list(json.loads(row[0])) if row else []

    # -- what each file hashed to, to skip reading unchanged files
    def file_hash(self, source: str, size: int, mtime_ns: int) -> str | None:
        with self._tx() as c:
            row = c.execute(
                "SELECT doc_hash FROM files WHERE source = ? AND size = ? AND mtime_ns = ?",
                (source, size, mtime_ns),
            ).fetchone()
        return row[0] if row else None

    def indexed_files(self) -> dict[str, str]:
        """source -> doc_hash, as of the last ingest that finished."""
        with self._tx() as c:
            return dict(c.execute("SELECT source, doc_hash FROM files").fetchall())

    def forget_files(self, sources: list[str]) -> None:
        with self._tx() as c:
            c.executemany("DELETE FROM files WHERE source = ?", [(s,) for s in sources])

    def stored_chunks(
        self, source: str, doc_hash: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """(text, metadata) of the indexed chunks of `source` (of one version of it), in order."""
        sql = "SELECT text, metadata FROM chunks WHERE source = ?"
        args: list[Any] = [source]
        if doc_hash:
            sql += " AND doc_hash = ?"
            args.append(doc_hash)
        with self._tx() as c:
            rows = [(t, json.loads(m)) for t, m in c.execute(sql, args)]
        return sorted(rows, key=lambda r: (r[1]["doc_hash"], r[1]["start"]))

    def remember_files(self, files: dict[str, tuple[str, int, int]]) -> None:
        """source -> (doc_hash, size, mtime_ns), in one transaction."""
        with self._tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                [(source, *known) for source, known in files.items()],
            )

    # -- chunks, kept in step with the vector store
    def upsert_chunks(self, rows: Iterable[ChunkRow]) -> None:
        """Rows of (chunk_id, source, doc_hash, text, metadata)."""
        with self._tx() as c:
            for chunk_id, source, doc_hash, text, metadata in rows:
                c.execute("DELETE FROM chunks WHERE chunk_id = ?", (chunk_id,))
                c.execute(
                    "INSERT INTO chunks (chunk_id, source, doc_hash, text, metadata) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (chunk_id, source, doc_hash, text, json.dumps(metadata)),
                )

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        with self._tx() as c:
            c.executemany("DELETE FROM chunks WHERE chunk_id = ?", [(i,) for i in chunk_ids])

    def get_chunks(self, chunk_ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """chunk_id -> (text, metadata) for those of `chunk_ids` that exist."""
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        with self._tx() as c:
            for i in range(0, len(chunk_ids), 500):
                part = chunk_ids[i : i + 500]
                marks = ",".join("?" * len(part))
                for cid, text, meta in c.execute(
                    f"SELECT chunk_id, text, metadata FROM chunks WHERE chunk_id IN ({marks})", part
                ):
                    out[cid] = (text, json.loads(meta))
        return out

    def existing_chunk_ids(self, chunk_ids: list[str]) -> set[str]:
        out: set[str] = set()
        with self._tx() as c:
            for i in range(0, len(chunk_ids), 500):
                part = chunk_ids[i : i + 500]
                marks = ",".join("?" * len(part))
                sql = f"SELECT chunk_id FROM chunks WHERE chunk_id IN ({marks})"
                out.update(r[0] for r in c.execute(sql, part))
        return out

    # -- what the keyword index follows
    def keyword_changes(self, after: int, limit: int) -> tuple[int, list[str]]:
        """(the last sequence number, the distinct chunk ids) of the oldest logged changes
        after `after`."""
        with self._tx() as c:
            rows = c.execute(
                "SELECT seq, chunk_id FROM keyword_log WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return (rows[-1][0] if rows else after), list(dict.fromkeys(cid for _, cid in rows))

    def forget_keyword_changes(self, upto: int) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM keyword_log WHERE seq <= ?", (upto,))

    def forgotten_keyword_changes(self) -> int:
        """0: the one follower forgets only what it applied itself."""
        return 0

    def last_keyword_change(self) -> int:
        with self._tx() as c:
            return int(c.execute("SELECT COALESCE(MAX(seq), 0) FROM keyword_log").fetchone()[0])

    def keyword_state(self, after: int) -> tuple[int, int]:
        """(chunks, changes after `after` not yet applied to the keyword index), read together."""
        with self._tx() as c:
            pending = c.execute("SELECT COUNT(*) FROM keyword_log WHERE seq > ?", (after,))
            return self._chunk_total(c), int(pending.fetchone()[0])

    def chunk_texts(self, chunk_ids: list[str]) -> dict[str, tuple[str, str]]:
        """chunk_id -> (source, text) for those of `chunk_ids` that exist."""
        out: dict[str, tuple[str, str]] = {}
        with self._tx() as c:
            for i in range(0, len(chunk_ids), 500):
                part = chunk_ids[i : i + 500]
                marks = ",".join("?" * len(part))
                for cid, source, text in c.execute(
                    f"SELECT chunk_id, source, text FROM chunks WHERE chunk_id IN ({marks})", part
                ):
                    out[cid] = (source, text)
        return out

    def chunk_rows(self, after: int, limit: int) -> list[tuple[int, str, str, str]]:
        """(rowid, chunk_id, source, text) of the next `limit` chunks after rowid `after`."""
        with self._tx() as c:
            return c.execute(
                "SELECT rowid, chunk_id, source, text FROM chunks WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?",
                (after, limit),
            ).fetchall()

    def sources(self) -> list[str]:
        with self._tx() as c:
            return [r[0] for r in c.execute("SELECT DISTINCT source FROM chunks ORDER BY source")]

    def counts(self) -> tuple[int, int]:
        """(documents, chunks) in the index."""
        with self._tx() as c:
            row = c.execute("SELECT COUNT(DISTINCT source), COUNT(*) FROM chunks").fetchone()
        return int(row[0]), int(row[1])

    def chunk_count(self) -> int:
        """Chunks in the index (cheap: the triggers keep the total)."""
        with self._tx() as c:
            return self._chunk_total(c)

    @staticmethod
    def _chunk_total(c: sqlite3.Connection) -> int:
        try:
            row = c.execute("SELECT n FROM chunk_total").fetchone()
        except sqlite3.OperationalError:  # an older index, opened read-only: never given one
            row = None
        return int(row[0] if row else c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def prune(self) -> None:
        """Drop texts and file records that no indexed chunk refers to any more."""
        with self._tx() as c:
            c.execute("DELETE FROM texts WHERE doc_hash NOT IN (SELECT doc_hash FROM chunks)")
            c.execute("DELETE FROM files WHERE source NOT IN (SELECT source FROM chunks)")

    # -- vectors by content hash (the embedding cache)
    def get_vectors(self, keys: list[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        with self._tx() as c:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                marks = ",".join("?" * len(part))
                out.update(
                    c.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part)
                )
        return out

    def put_vectors(self, vectors: dict[str, bytes]) -> None:
        with self._tx() as c:
            c.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", vectors.items())

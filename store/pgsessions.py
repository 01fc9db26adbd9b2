"""Login sessions in the shared PostgreSQL database, so that a login made on one server is
accepted by every other and a logout ends it everywhere. The same three calls as the in-memory
store (app/interfaces/sessions.py); times are the database's clock, one for all servers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from store.pg import SCHEMA_LOCK, make_pool, pg_errors

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY, user_name TEXT NOT NULL,
    opened TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    used TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())
"""
LIVE = (
    "used > clock_timestamp() - %(idle)s * interval '1 second' "
    "AND opened > clock_timestamp() - %(life)s * interval '1 second'"
)


class DatabaseSessions:
    """Sessions ending after `idle` seconds unused and `lifetime` seconds after the login.
    Tokens are random and kept only as their SHA-256."""

    def __init__(self, url: str, idle: float, lifetime: float) -> None:
        self.url, self.idle, self.lifetime = url, idle, lifetime
        self._pool = make_pool(url, size=2)
        with self._tx("creating the sessions table") as c:
            c.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            c.execute(SCHEMA)

    @contextmanager
    def _tx(self, what: str) -> Iterator[Any]:
        with pg_errors(self.url, what), self._pool.connection() as conn:
            yield conn  # committed as the block ends, rolled back if it raises

    def open(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._tx("opening a session") as c:
            c.execute("DELETE FROM sessions WHERE NOT (" + LIVE + ")", self._ages())
            c.execute(
                "INSERT INTO sessions (digest, user_name) VALUES (%s, %s)", (_digest(token), user)
            )
        return token

    def user(self, token: str) -> str | None:
        with self._tx("checking a session") as c:
            row = c.execute(
                "UPDATE sessions SET used = clock_timestamp() WHERE digest = %(digest)s AND "
                + LIVE
                + " RETURNING user_name",
                {"digest": _digest(token), **self._ages()},
            ).fetchone()
        return str(row[0]) if row else None

    def close(self, token: str) -> None:
        with self._tx("ending a session") as c:
            c.execute("DELETE FROM sessions WHERE digest = %s", (_digest(token),))

    def shut(self) -> None:
        self._pool.close()

    def _ages(self) -> dict[str, float]:
        return {"idle": self.idle, "life": self.lifetime}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

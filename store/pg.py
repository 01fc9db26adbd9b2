"""PostgreSQL for an index shared by several servers: the driver (psycopg 3, imported only when a
database URL is set), a pool of connections, its failures in our words, and the advisory lock
that lets one writer at a time in."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from store.errors import IndexBusyError, StoreError, StoreUnavailableError

# Seconds a request waits for a connection before it is told the database is unreachable.
CONNECT_SECONDS = 3.0
# pg_try_advisory_lock keys: the ingest lock, and the one that serialises creating the schema.
WRITER_LOCK = 0x53425752  # "SBWR"
SCHEMA_LOCK = 0x53425343  # "SBSC"


def driver() -> Any:
    """psycopg, or a one-line error that names the extra to install."""
    try:
        import psycopg
    except ImportError as e:
        raise StoreError(
            "SOURCEBOOK_DATABASE_URL is set but the PostgreSQL driver is not installed: "
            "pip install -e '.[postgres]' (psycopg 3)"
        ) from e
    return psycopg


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    netloc = f"{parts.username + '@' if parts.username else ''}{host}"
    netloc += f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy (LangChain's record manager), through psycopg 3."""
    scheme, _, rest = url.partition("://")
    return f"postgresql+psycopg://{rest}" if scheme in ("postgres", "postgresql") else url


def first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


@contextmanager
def pg_errors(url: str, what: str) -> Iterator[None]:
    """A lost database becomes one line; other database errors, a StoreError."""
    psycopg = driver()
    from psycopg_pool import PoolTimeout

    try:
        yield
    except (psycopg.OperationalError, PoolTimeout) as e:
        reason = _why(url) if isinstance(e, PoolTimeout) else first_line(e)
        raise StoreUnavailableError(
            f"the PostgreSQL database {shown(url)} is unreachable while {what}: {reason}"
        ) from e
    except psycopg.Error as e:
        raise StoreError(f"the PostgreSQL database {shown(url)}, {what}: {first_line(e)}") from e


def _why(url: str) -> str:
    """Why no connection could be had: the pool only says it waited, a connection says why."""
    try:
        driver().connect(url, connect_timeout=int(CONNECT_SECONDS)).close()
    except Exception as e:  # whatever the driver says is the reason
        return first_line(e).removeprefix("connection failed: ")
    return f"no connection free within {CONNECT_SECONDS:g} s"


def make_pool(url: str, size: int = 4) -> Any:
    """Connections for one process's threads; each is checked as it is taken, so one that a
    restarted server dropped is replaced instead of failing a request."""
    driver()
    from psycopg_pool import ConnectionPool

    with pg_errors(url, "connecting"):
        return ConnectionPool(
            url,
            min_size=1,
            max_size=size,
            timeout=CONNECT_SECONDS,
            reconnect_timeout=CONNECT_SECONDS,
            check=ConnectionPool.check_connection,
            kwargs={"connect_timeout": int(CONNECT_SECONDS), "application_name": _me("reader")},
            open=True,
            name="sourcebook",
        )


def _me(role: str) -> str:
    return f"sourcebook {role} pid {os.getpid()} on {socket.gethostname()}"[:63]


@contextmanager
def writer_lock(url: str) -> Iterator[None]:
    """Hold the database's writer lock (a session-level advisory lock: a writer that dies,
    however it dies, releases it with its connection); a second writer is told who holds it."""
    psycopg = driver()
    with pg_errors(url, "taking the ingest lock"):
        conn = psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=int(CONNECT_SECONDS),
            application_name=_me("ingest"),
        )
    try:
        with pg_errors(url, "taking the ingest lock"):
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (WRITER_LOCK,)).fetchone()[0]
            holder = None if got else _holder(conn)
        if not got:
            raise IndexBusyError(
                f"another ingest ({holder or 'a process that just ended'}) is writing to "
                f"{shown(url)}; wait for it to finish"
            )
        yield
    finally:
        conn.close()


def _holder(conn: Any) -> str | None:
    row = conn.execute(
        "SELECT a.application_name, a.client_addr FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted",
        (WRITER_LOCK,),
    ).fetchone()
    if row is None:
        return None
    name = str(row[0] or "").removeprefix("sourcebook ingest ") or "a client"
    return f"{name}, from {row[1]}" if row[1] else name

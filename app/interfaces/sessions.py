"""Login sessions kept on the server, each ending after an idle time and after a lifetime.

`SessionStore` is what the gate needs; `MemorySessions` keeps them in this process;
`store.DatabaseSessions` keeps them in PostgreSQL for several servers (SOURCEBOOK_DATABASE_URL),
with the same three calls, and then a logout ends the session on all of them. Tokens are random and kept only as their SHA-256, so neither a
lookup nor a log line reveals one."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]  # seconds; injectable so tests need not wait


class SessionStore(Protocol):
    lifetime: float  # seconds from login to the session's end, however busy (the cookie's Max-Age)

    def open(self, user: str) -> str:
        """A new session for `user`; returns its token (the cookie's value)."""
        ...

    def user(self, token: str) -> str | None:
        """Who the live session `token` belongs to (and it counts as used now), else None."""
        ...

    def close(self, token: str) -> None:
        """End the session `token` (logging out); unknown tokens are ignored."""
        ...


@dataclass
class _Session:
    user: str
    opened: float
    used: float


class MemorySessions:
    """Sessions in this process's memory: gone when the server stops. At most `keep` live at
    once (the oldest is ended first), so logins cannot fill the memory."""

    def __init__(
        self, idle: float, lifetime: float, clock: Clock = time.monotonic, keep: int = 10_000
    ) -> None:
        self.idle, self.lifetime, self.clock, self.keep = idle, lifetime, clock, keep
        self._live: dict[str, _Session] = {}  # by the token's digest, oldest first
        self._lock = threading.Lock()

    def open(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._live = {k: s for k, s in self._live.items() if self._alive(s, now)}
            while len(self._live) >= self.keep:
                del self._live[next(iter(self._live))]
            self._live[_digest(token)] = _Session(user, now, now)
        return token

    def user(self, token: str) -> str | None:
        key, now = _digest(token), self.clock()
        with self._lock:
            session = self._live.get(key)
            if session is None:
                return None
            if not self._alive(session, now):
                del self._live[key]
                return None
            session.used = now
            return session.user

    def close(self, token: str) -> None:
        with self._lock:
            self._live.pop(_digest(token), None)

    def _alive(self, session: _Session, now: float) -> bool:
        return now - session.used < self.idle and now - session.opened < self.lifetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

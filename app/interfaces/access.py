"""Who may come in: logins for the chat window, bearer tokens for the HTTP APIs, and the rule
that a server reachable beyond loopback does not start without them (unless told --insecure).

Secrets are compared in constant time (`hmac.compare_digest`); sessions live in a store on the
server (sessions.py) that ends them when idle, when old, and at logout."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

from app.interfaces.sessions import MemorySessions, SessionStore
from app.settings import Settings
from store import SourcebookError

log = logging.getLogger(__name__)

KEY_USER = "api-key"  # the user name a bearer token acts as; a login name cannot contain ":"
SESSION_COOKIE = "sourcebook-session"


class ServeError(SourcebookError):
    """`sourcebook serve` cannot start as asked (its port is taken, ...)."""


class AccessError(ServeError):
    """Serving as configured would let in anyone, or the credentials cannot be read."""


def is_loopback(host: str) -> bool:
    """True when `host` (an address or a name) is reachable only from this machine."""
    if host.strip("[]").lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def _entries(inline: str | None, file: Path | None, name: str) -> list[str]:
    """Comma-separated entries of SOURCEBOOK_<NAME>, then the lines of its file."""
    found = [e.strip() for e in (inline or "").split(",") if e.strip()]
    if file is not None:
        try:
            lines = file.expanduser().read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise AccessError(
                f"SOURCEBOOK_{name}_FILE: cannot read {file}: {e.strerror or e}"
            ) from e
        found += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return found


def _logins(entries: list[str]) -> dict[str, str]:
    logins: dict[str, str] = {}
    for i, entry in enumerate(entries, start=1):
        user, colon, password = entry.partition(":")
        if not colon or not user.strip() or not password:
            # The entry itself is not shown: it may hold a password.
            raise AccessError(
                f"SOURCEBOOK_AUTH: login {i} is not user:password (a user name and a password "
                "separated by a colon)"
            )
        logins[user.strip()] = password
    return logins


def make_sessions(settings: Settings) -> SessionStore:
    """In this process's memory; in the shared database when there is one, so that every
    server accepts a login made on any of them."""
    idle, lifetime = settings.session_idle_seconds, settings.session_lifetime_seconds
    if settings.database_url:
        from store import DatabaseSessions

        return DatabaseSessions(settings.database_url, idle, lifetime)
    return MemorySessions(idle, lifetime)


def default_sessions() -> SessionStore:
    """Sessions with the settings' default lifetimes (not read from the environment)."""
    return make_sessions(Settings.model_construct())


@dataclass
class Credentials:
    """The logins and bearer tokens a server accepts, and its live login sessions."""

    logins: dict[str, str] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    sessions: SessionStore = field(default_factory=default_sessions, repr=False)

    @property
    def required(self) -> bool:
        """Whether anything is configured; without credentials, everyone comes in."""
        return bool(self.logins or self.keys)

    def check_login(self, user: str, password: str) -> bool:
        # An unknown user is compared against a throwaway, so the time taken does not say
        # whether the name exists.
        expected = self.logins.get(user, secrets.token_urlsafe(16))
        ok = hmac.compare_digest(password.encode(), expected.encode())
        return ok and user in self.logins

    def check_key(self, token: str) -> bool:
        found = False
        for key in self.keys:  # every key is compared: no early exit to time
            found |= hmac.compare_digest(token.encode(), key.encode())
        return found

    def open_session(self, user: str) -> str:
        return self.sessions.open(user)

    def session_user(self, token: str) -> str | None:
        user = self.sessions.user(token)
        return user if user in self.logins else None  # a login removed since is no one

    def close_session(self, token: str) -> None:
        self.sessions.close(token)

    def may_write(self, user: str | None) -> bool:
        """Uploads and re-ingest: open to all without credentials, else only to a logged-in
        user (not to a bearer token)."""
        return not self.required or (user is not None and user in self.logins)


def load_credentials(settings: Settings) -> Credentials:
    """The credentials the settings name (SOURCEBOOK_AUTH[_FILE], SOURCEBOOK_API_KEYS[_FILE])."""
    auth = settings.auth.get_secret_value() if settings.auth else None
    keys = settings.api_keys.get_secret_value() if settings.api_keys else None
    logins = _logins(_entries(auth, settings.auth_file, "AUTH"))
    return Credentials(
        logins=logins,
        keys=_entries(keys, settings.api_keys_file, "API_KEYS"),
        sessions=make_sessions(settings) if logins else default_sessions(),
    )


def check_exposure(host: str, credentials: Credentials, insecure: bool, ui: bool = True) -> None:
    """Refuse to serve beyond loopback without credentials that open what is served, unless
    told `insecure`. Without the chat window (`ui` False) only bearer tokens open anything."""
    if not ui and credentials.logins and not credentials.keys:
        raise AccessError(
            "--no-ui serves only the OpenAI-compatible API (/v1), which takes bearer tokens, not "
            "logins: set SOURCEBOOK_API_KEYS=token (SOURCEBOOK_AUTH is for the chat window)"
        )
    if is_loopback(host) or credentials.required:
        if ui and not credentials.logins and credentials.keys:
            log.warning(
                "no SOURCEBOOK_AUTH: nobody can log in to the chat window; to serve the API "
                "alone, run `sourcebook serve --no-ui`, or set SOURCEBOOK_AUTH=user:password"
            )
        return
    if not insecure:
        what = (
            "SOURCEBOOK_AUTH=user:password (the chat window's login) and "
            "SOURCEBOOK_API_KEYS=token (the HTTP APIs)"
            if ui
            else "SOURCEBOOK_API_KEYS=token (the API's bearer tokens)"
        )
        raise AccessError(
            f"refusing to serve on {host} without credentials: set {what}, "
            "or pass --insecure to let in anyone who can reach it"
        )
    log.warning("serving on %s to anyone who can reach it (--insecure)", host)

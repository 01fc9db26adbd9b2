"""Request bodies bounded before they are read: an ASGI middleware in front of every route.

A Content-Length over the route's limit gets 413 before a byte of the body is read; a body sent
without one (chunked) is counted as it arrives, and the moment it passes the limit the route
reads nothing more and the client gets 413 (whatever the route would have answered)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store import SourcebookError

log = logging.getLogger(__name__)

LOGIN_FORM_BYTES = 8192  # a user name and a password, form-encoded
UPLOAD_PATH = "/gradio_api/upload"  # Gradio's upload route (its app is mounted at /)
# Gradio's routes that store what they are sent (the window uses only the first).
FILE_PATHS = frozenset({UPLOAD_PATH, "/gradio_api/process_recording"})
UPLOAD_FILES_PER_REQUEST = 5  # an upload request may carry this many files at the size limit
Limits = Callable[[str], int]  # path -> the most bytes its body may have


class BodyTooLarge(SourcebookError):
    """Raised into the route that reads past its limit (it stops reading; the 413 is ours)."""


def is_upload(path: str) -> bool:
    return path.rstrip("/") == UPLOAD_PATH


def takes_files(path: str) -> bool:
    return path.rstrip("/") in FILE_PATHS


def make_limits(max_request_mb: float, max_upload_mb: float) -> Limits:
    """The body limit of each route: the login form, Gradio's upload, everything else."""
    request = int(max_request_mb * 1e6)
    # Multipart framing around each file is a few hundred bytes; 64 kB covers it.
    upload = int(max_upload_mb * 1e6 * UPLOAD_FILES_PER_REQUEST) + 65536

    def limit_of(path: str) -> int:
        if path.rstrip("/") == "/login":
            return LOGIN_FORM_BYTES
        return upload if is_upload(path) else request

    return limit_of


def too_large_body(limit: int) -> bytes:
    """The refusal, in the same error shape as the gate's and OpenAI's."""
    size = f"{limit / 1e6:g} MB" if limit >= 1_000_000 else f"{limit / 1000:.0f} kB"
    error = {
        "message": f"the request body is over {size}",
        "type": "invalid_request_error",
        "param": None,
        "code": "request_too_large",
    }
    return json.dumps({"error": error}).encode()


async def refuse(send: Send, limit: int) -> None:
    body = too_large_body(limit)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is never read
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """ASGI middleware: no route reads more of a body than `limit_of(path)` bytes."""

    def __init__(self, app: ASGIApp, limit_of: Limits) -> None:
        self.app = app
        self.limit_of = limit_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        length = declared_length(scope)
        if length is not None and length > limit:
            log.info("refused a %d-byte body to %s (limit %d)", length, scope["path"], limit)
            await refuse(send, limit)
            return
        received, over, started = 0, False, False

        async def bounded_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge(f"the request body is over {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the route makes of a cut body, the answer is our 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except Exception:
            # A route (or a layer around it) may wrap BodyTooLarge in its own error.
            if not over:
                raise
        if over:
            log.info("refused a body over %d bytes to %s", limit, scope["path"])
            if not started:
                await refuse(send, limit)

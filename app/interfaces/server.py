"""`sourcebook serve`: one server, one port, for the chat window (Gradio), the OpenAI-compatible
API (/v1) and Gradio's own API (/ask), or with --no-ui the OpenAI-compatible API alone; behind
the login and token checks when credentials are set (and refusing to start beyond loopback
without them, unless told --insecure)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from types import FrameType

import uvicorn
from fastapi import FastAPI, Request

from app import library
from app.interfaces import openai_api
from app.interfaces.access import Credentials, ServeError, check_exposure, load_credentials
from app.interfaces.gate import Gate, identify, make_login_router, make_throttle
from app.interfaces.limits import BodyLimit, make_limits
from app.settings import Settings, get_settings
from app.watch import Watcher

log = logging.getLogger(__name__)


class Server(uvicorn.Server):
    """uvicorn's server that, told to stop, first ends the chat window's open streams: each
    page holds one open, and uvicorn would wait for them until its grace period runs out."""

    def __init__(self, config: uvicorn.Config, end_streams: Callable[[], None]) -> None:
        super().__init__(config)
        self.end_streams = end_streams

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A signal handler runs on the loop's thread, between its steps; with no loop yet,
        # nothing is streaming.
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().call_soon_threadsafe(self.end_streams)
        super().handle_exit(sig, frame)


def make_app(
    settings: Settings,
    credentials: Credentials,
    host: str,
    port: int,
    watcher: Watcher | None = None,
    *,
    ui: bool = True,
) -> tuple[FastAPI, Callable[[], None]]:
    """The whole server as one ASGI app: routes of our own first, the chat window at / last
    (unless `ui` is False: the API alone, and gradio never imported); and what ends the
    window's open streams."""
    app = FastAPI(title="Sourcebook", docs_url=None, redoc_url=None, openapi_url=None)
    openai_api.install(app, settings)
    if credentials.required:
        if ui:
            app.include_router(make_login_router(credentials, make_throttle(settings)))
        app.add_middleware(Gate, credentials=credentials, api_only=not ui)
    # Added last, so outermost: no route, open or gated, reads past its limit.
    limits = make_limits(settings.max_request_mb, settings.max_upload_mb)
    app.add_middleware(BodyLimit, limit_of=limits)
    if not ui:
        return app, lambda: None
    from app.interfaces import ui as window  # gradio is imported only when the window is served

    user_of = make_user_of(credentials) if credentials.required else None
    end_streams = window.mount(
        app,
        settings,
        host=host,
        port=port,
        user_of=user_of,
        may_write=credentials.may_write,
        watcher=watcher,
    )
    return app, end_streams


def make_user_of(credentials: Credentials) -> Callable[[Request], str | None]:
    """Who is behind a request to the chat window (Gradio asks, to fill `request.username`)."""

    def user_of(request: Request) -> str | None:
        return identify(credentials, dict(request.headers))

    return user_of


def check_port(host: str, port: int) -> None:
    """A clear error for a port that is taken, before the app is built."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as e:
            raise ServeError(
                f"cannot listen on {host}:{port}: {e.strerror or e}; pick another with --port "
                "(or SOURCEBOOK_PORT)"
            ) from e


def serve(
    host: str,
    port: int,
    settings: Settings | None = None,
    *,
    insecure: bool = False,
    watch: bool = False,
    ui: bool = True,
) -> None:
    """Serve on http://host:port until interrupted; an AccessError if that would let in anyone
    beyond this machine. With `watch`, the index follows the folder meanwhile; without `ui`,
    only the OpenAI-compatible API is served (no chat window, no Gradio API)."""
    settings = settings or get_settings()
    credentials = load_credentials(settings)
    check_exposure(host, credentials, insecure, ui)
    check_port(host, port)
    library.warm_up(settings)
    watcher = Watcher(settings).start() if watch else None
    try:
        app, end_streams = make_app(settings, credentials, host, port, watcher, ui=ui)
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5
        )
        log.info("serving on http://%s:%d", host, port)
        Server(config, end_streams).run()
    finally:
        if watcher is not None:
            watcher.stop()

"""The door of `sourcebook serve` when credentials are set: an ASGI middleware in front of every
route (OpenAI API, Gradio app) and the login page that opens a session for the chat window.

    /v1/...      a bearer token (SOURCEBOOK_API_KEYS), else 401 in OpenAI's error shape
    /login       the login form (SOURCEBOOK_AUTH), failures throttled; /logout ends the session
    upload       Gradio's routes that store files: a login session only (403 for a token)
    the rest     a bearer token or a login session; a browser without one is sent to /login
"""

from __future__ import annotations

import html
import logging
import math
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.interfaces.access import KEY_USER, SESSION_COOKIE, Credentials
from app.interfaces.limits import LOGIN_FORM_BYTES, takes_files
from app.interfaces.throttle import LoginThrottle, client_key, user_key
from app.settings import Settings
from store import SourcebookError

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/login", "/logout"})
LOGIN_TO_UPLOAD = {
    "error": {
        "message": "only a logged-in user may upload: log in at /login (a bearer token cannot)",
        "type": "invalid_request_error",
        "param": None,
        "code": "login_required",
    }
}


def unauthorized_body(api: bool) -> dict[str, Any]:
    """The same body for every refusal: it says what to send, and nothing about the documents."""
    how = "send `Authorization: Bearer <token>` (SOURCEBOOK_API_KEYS)"
    if not api:
        how += " or log in at /login"
    return {
        "error": {
            "message": f"missing or wrong credentials: {how}",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }


def unavailable_body(message: str) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "server_error",
            "param": None,
            "code": "unavailable",
        }
    }


def bearer(headers: dict[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def session_token(headers: dict[str, str]) -> str | None:
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no session, not an error
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


def identify(credentials: Credentials, headers: dict[str, str], api: bool = False) -> str | None:
    """Who sends these headers: a login's user name, KEY_USER for a bearer token, else None.
    The APIs under /v1 take only bearer tokens (a cookie would let other sites post there)."""
    token = bearer(headers)
    if token is not None and credentials.check_key(token):
        return KEY_USER
    session = None if api else session_token(headers)
    return credentials.session_user(session) if session else None


class Gate:
    """ASGI middleware: lets a request through only with credentials (see the module doc)."""

    def __init__(self, app: ASGIApp, credentials: Credentials, api_only: bool = False) -> None:
        self.app = app
        self.credentials = credentials
        self.api_only = api_only  # no chat window: every route is the API's (tokens only)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        api = self.api_only or scope["path"] == "/v1" or scope["path"].startswith("/v1/")
        try:
            user = identify(self.credentials, headers, api)
        except SourcebookError as e:  # sessions in a database that cannot be reached
            log.warning("%s", e)
            await JSONResponse(unavailable_body(str(e)), status_code=503)(scope, receive, send)
            return
        if user is not None and takes_files(scope["path"]) and not self.credentials.may_write(user):
            await JSONResponse(LOGIN_TO_UPLOAD, status_code=403)(scope, receive, send)
            return
        if user is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        browsing = scope["method"] in ("GET", "HEAD") and "text/html" in headers.get("accept", "")
        if browsing and not api:
            response: Response = RedirectResponse("/login", status_code=303)
        else:
            response = JSONResponse(
                unauthorized_body(api), status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        await response(scope, receive, send)


def make_throttle(settings: Settings) -> LoginThrottle:
    return LoginThrottle(settings.login_attempts, settings.login_window_seconds)


def make_login_router(credentials: Credentials, throttle: LoginThrottle | None = None) -> APIRouter:
    """/login and /logout; failed logins are counted by `throttle` (default: the settings'
    defaults)."""
    throttle = throttle or make_throttle(Settings.model_construct())
    router = APIRouter()

    @router.get("/login", include_in_schema=False)
    def login_form() -> HTMLResponse:
        return HTMLResponse(login_page(""))

    @router.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        body = await request.body()  # at most LOGIN_FORM_BYTES: the BodyLimit middleware
        form = parse_qs(body[:LOGIN_FORM_BYTES].decode("utf-8", "replace"))
        user = (form.get("username") or [""])[0].strip()
        password = (form.get("password") or [""])[0]
        client = request.client.host if request.client else "?"
        keys = (client_key(client), user_key(user))
        wait = throttle.wait(*keys)  # before the password is looked at: a guess tells nothing
        if wait > 0:
            log.warning("login from %s refused: too many failed logins", client)
            return too_many(math.ceil(wait))
        if not credentials.check_login(user, password):
            throttle.failed(*keys)
            log.warning("failed login from %s", client)
            return HTMLResponse(login_page("Wrong user name or password."), status_code=401)
        throttle.succeeded(*keys)
        try:
            token = credentials.open_session(user)
        except SourcebookError as e:  # sessions in a database that cannot be reached
            log.warning("%s", e)
            return HTMLResponse(login_page(f"Cannot log in now: {e}"), status_code=503)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(credentials.sessions.lifetime),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    @router.get("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            try:
                credentials.close_session(token)
            except SourcebookError as e:
                log.warning("%s", e)
                return HTMLResponse(login_page(f"Cannot log out now: {e}"), status_code=503)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    return router


def too_many(seconds: int) -> HTMLResponse:
    when = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    problem = f"Too many failed logins. Try again in {when}."
    return HTMLResponse(login_page(problem), status_code=429, headers={"Retry-After": str(seconds)})


def login_page(problem: str) -> str:
    alert = f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sourcebook: log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; background: #f5f6fa; display: grid;
  place-items: center; min-height: 100vh; margin: 0; color: #1e293b; }}
form {{ background: #fff; padding: 2rem; border-radius: 12px; width: min(22rem, 90vw);
  box-shadow: 0 2px 12px rgb(0 0 0 / 8%); display: grid; gap: .8rem; }}
h1 {{ margin: 0; font-size: 1.4rem; }} label {{ display: grid; gap: .3rem; }}
input {{ padding: .55rem; border: 1px solid #cbd5e1; border-radius: 6px; font-size: 1rem; }}
button {{ padding: .6rem; border: 0; border-radius: 6px; background: #4f46e5; color: #fff;
  font-size: 1rem; cursor: pointer; }} .problem {{ color: #b91c1c; margin: 0; }}
</style></head><body>
<form method="post" action="/login"><h1>Sourcebook</h1>{alert}
<label>User name <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
  required></label>
<button type="submit">Log in</button></form></body></html>"""

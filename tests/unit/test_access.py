"""Who may come in: reading credentials, the loopback rule, and the gate in front of a real ASGI
app (Starlette's test client speaks HTTP to it in process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.interfaces.access import (
    KEY_USER,
    AccessError,
    Credentials,
    check_exposure,
    is_loopback,
    load_credentials,
)
from app.interfaces.gate import Gate, make_login_router
from app.interfaces.sessions import MemorySessions
from app.interfaces.throttle import LoginThrottle
from app.settings import Settings

SECRET = "s3cret: with, odd chars"


def test_loopback_addresses() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "10.1.2.3", "192.168.0.7", "no-such-host.invalid"):
        assert not is_loopback(host), host


def test_logins_and_keys_from_the_settings_and_their_files(tmp_path: Path) -> None:
    logins = tmp_path / "logins"
    logins.write_text(f"# who may log in\nada:{SECRET}\n\n")
    keys = tmp_path / "keys"
    keys.write_text("key-three\n")
    settings = Settings(
        auth="bob:pw1, carol:pw:with:colons",  # type: ignore[arg-type]
        auth_file=logins,
        api_keys="key-one,key-two",  # type: ignore[arg-type]
        api_keys_file=keys,
    )
    creds = load_credentials(settings)
    assert creds.logins == {"bob": "pw1", "carol": "pw:with:colons", "ada": SECRET}
    assert creds.keys == ["key-one", "key-two", "key-three"]
    assert "pw1" not in repr(settings) and "key-one" not in repr(settings)


@pytest.mark.parametrize("entry", ["justaname", ":nopass-zq", "zqname:"])
def test_a_bad_login_entry_is_named_without_its_password(entry: str) -> None:
    with pytest.raises(AccessError) as caught:
        load_credentials(Settings(auth=f"ok:fine,{entry}"))  # type: ignore[arg-type]
    message = str(caught.value)
    assert "login 2" in message and "user:password" in message
    assert entry.strip(":") not in message and "fine" not in message


def test_an_unreadable_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(AccessError, match="SOURCEBOOK_API_KEYS_FILE: cannot read .*missing"):
        load_credentials(Settings(api_keys_file=tmp_path / "missing"))


def test_checks() -> None:
    creds = Credentials(logins={"ada": SECRET}, keys=["key-one", "key-two"])
    assert creds.check_login("ada", SECRET)
    assert not creds.check_login("ada", SECRET + "x") and not creds.check_login("bob", SECRET)
    assert creds.check_key("key-two") and not creds.check_key("key-tw") and not creds.check_key("")
    token = creds.open_session("ada")
    assert creds.session_user(token) == "ada" and creds.session_user(token + "x") is None
    creds.close_session(token)
    assert creds.session_user(token) is None
    assert creds.may_write("ada") and not creds.may_write(KEY_USER) and not creds.may_write(None)
    assert Credentials().may_write(None)  # nothing configured: as open as before


def test_beyond_loopback_needs_credentials_or_insecure() -> None:
    none, some = Credentials(), Credentials(keys=["k"])
    check_exposure("127.0.0.1", none, insecure=False)
    check_exposure("0.0.0.0", some, insecure=False)
    check_exposure("0.0.0.0", none, insecure=True)
    with pytest.raises(AccessError, match=r"refusing to serve on 0\.0\.0\.0 .*--insecure"):
        check_exposure("0.0.0.0", none, insecure=False)


def test_tokens_without_logins_say_how_to_serve_the_api_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    check_exposure("127.0.0.1", Credentials(keys=["k"]), insecure=False)
    assert "nobody can log in to the chat window" in caplog.text
    assert "`sourcebook serve --no-ui`" in caplog.text
    caplog.clear()
    check_exposure("0.0.0.0", Credentials(keys=["k"]), insecure=False, ui=False)
    assert not caplog.text
    with pytest.raises(AccessError, match="SOURCEBOOK_API_KEYS=token .the API's"):
        check_exposure("0.0.0.0", Credentials(), insecure=False, ui=False)


def gated_app(creds: Credentials) -> TestClient:
    app = FastAPI()
    app.include_router(make_login_router(creds))

    @app.get("/v1/models")
    def models() -> dict[str, str]:
        return {"data": "models"}

    @app.get("/config")
    def config() -> dict[str, str]:
        return {"documents": "secret.txt"}

    app.add_middleware(Gate, credentials=creds)
    return TestClient(app, follow_redirects=False)


def test_the_gate() -> None:
    creds = Credentials(logins={"ada": SECRET}, keys=["key-one"])
    client = gated_app(creds)
    for path in ("/v1/models", "/config"):
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "key-one"}):
            r = client.get(path, headers=headers)
            assert r.status_code == 401, (path, headers)
            assert r.json()["error"]["code"] == "invalid_api_key"
            assert "secret.txt" not in r.text and "models" not in r.text.replace("/v1", "")
        ok = client.get(path, headers={"Authorization": "Bearer key-one"})
        assert ok.status_code == 200
    browser = client.get("/config", headers={"Accept": "text/html"})
    assert browser.status_code == 303 and browser.headers["location"] == "/login"
    assert "<form" in client.get("/login").text


def test_login_opens_a_session_for_the_window_but_not_for_v1() -> None:
    creds = Credentials(logins={"ada": SECRET}, keys=["key-one"])
    client = gated_app(creds)
    wrong = client.post("/login", data={"username": "ada", "password": "guess"})
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    assert "sourcebook-session" not in wrong.headers.get("set-cookie", "")
    right = client.post("/login", data={"username": "ada", "password": SECRET})
    assert right.status_code == 303 and "HttpOnly" in right.headers["set-cookie"]
    assert client.get("/config").status_code == 200  # the cookie jar holds the session
    assert client.get("/v1/models").status_code == 401  # a cookie does not open the API
    client.get("/logout")
    assert client.get("/config").status_code == 401


class Clock:
    """Time that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_logins_wait_for_the_window_then_pass() -> None:
    clock = Clock()
    throttle = LoginThrottle(attempts=3, window=60, clock=clock)
    for _ in range(2):
        throttle.failed("client:a", "user:ada")
        clock.now += 10
    assert throttle.wait("client:a", "user:ada") == 0  # two failures: a third try is allowed
    throttle.failed("client:a", "user:ada")
    assert throttle.wait("client:b", "user:ada") == 40  # the oldest failure leaves in 40 s
    assert throttle.wait("client:a", "user:bob") == 40
    assert throttle.wait("client:b", "user:bob") == 0  # others are not held
    clock.now += 40
    assert throttle.wait("client:a", "user:ada") == 0
    throttle.failed("client:a")
    throttle.succeeded("client:a")
    assert throttle.wait("client:a") == 0


def test_the_throttle_forgets_the_oldest_keys_first() -> None:
    throttle = LoginThrottle(attempts=1, window=60, clock=Clock(), keep=2)
    for key in ("a", "b", "c"):
        throttle.failed(key)
    assert throttle.wait("a") == 0 and throttle.wait("b") > 0 and throttle.wait("c") > 0


def test_sessions_end_when_idle_and_when_old_however_busy() -> None:
    clock = Clock()
    sessions = MemorySessions(idle=30, lifetime=100, clock=clock)
    idle = sessions.open("ada")
    busy = sessions.open("ada")
    clock.now += 29
    assert sessions.user(idle) == "ada" and sessions.user(busy) == "ada"
    clock.now += 20
    assert sessions.user(busy) == "ada"
    clock.now += 10
    assert sessions.user(idle) is None  # 30 s unused
    for _ in range(4):
        clock.now += 10
        assert sessions.user(busy) == "ada"
    clock.now += 2  # 101 s after the login
    assert sessions.user(busy) is None
    kept = MemorySessions(idle=30, lifetime=100, clock=clock, keep=2)
    first, *_ = [kept.open(u) for u in ("a", "b", "c")]
    assert kept.user(first) is None  # the oldest made room


def test_a_login_removed_from_the_settings_has_no_session() -> None:
    creds = Credentials(logins={"ada": SECRET})
    token = creds.open_session("ada")
    creds.logins.clear()
    assert creds.session_user(token) is None


def test_the_login_form_answers_429_with_retry_after() -> None:
    creds = Credentials(logins={"ada": SECRET}, keys=["key-one"])
    throttle = LoginThrottle(attempts=2, window=300, clock=Clock())
    app = FastAPI()
    app.include_router(make_login_router(creds, throttle))
    client = TestClient(app, follow_redirects=False)
    for _ in range(2):
        assert client.post("/login", data={"username": "ada", "password": "x"}).status_code == 401
    right = client.post("/login", data={"username": "ada", "password": SECRET})
    assert right.status_code == 429 and right.headers["Retry-After"] == "300"
    assert "Try again in 5 minutes" in right.text and "set-cookie" not in right.headers


def test_a_session_cookie_has_a_max_age_and_uploads_need_a_login() -> None:
    creds = Credentials(logins={"ada": SECRET}, keys=["key-one"])
    app = FastAPI()
    app.include_router(make_login_router(creds))

    @app.post("/gradio_api/upload")
    def upload() -> list[str]:
        return ["stored"]

    app.add_middleware(Gate, credentials=creds)
    client = TestClient(app, follow_redirects=False)
    token = client.post("/gradio_api/upload", headers={"Authorization": "Bearer key-one"})
    assert token.status_code == 403 and token.json()["error"]["code"] == "login_required"
    login = client.post("/login", data={"username": "ada", "password": SECRET})
    assert "Max-Age=43200" in login.headers["set-cookie"]
    assert client.post("/gradio_api/upload").json() == ["stored"]


def test_the_api_alone_never_imports_gradio() -> None:
    """`serve --no-ui` builds its app without the chat window's stack."""
    import subprocess
    import sys

    code = (
        "import sys; from app.interfaces.server import make_app; "
        "from app.interfaces.access import Credentials; from app.settings import Settings; "
        "make_app(Settings(), Credentials(keys=['k']), '127.0.0.1', 1, ui=False); "
        "print('gradio' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

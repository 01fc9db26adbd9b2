"""Who may come in, against a real `sourcebook serve`: beyond loopback it will not start without
credentials; with them, every API route and every Gradio route that reads or writes answers 401
without the right token (saying nothing of the documents), the right one works through the real
clients, and only a logged-in user may upload or re-ingest."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from app.library import document_text
from app.settings import Settings
from tests.helpers import CORPUS, SOURCEBOOK, free_port, quiet_env, run_event, serving, upload

pytestmark = pytest.mark.integration

USER, PASSWORD = "reader", "open: sesame twice"
KEYS = ("key-one-4f9a", "key-two-77c1")
PRIME_MINISTER = "Which prime minister visited Tajikistan and Kyrgyzstan?"
# What must never appear in a refusal: names and words of the documents, the folder.
LEAKS = (
    "central-asia",
    ".txt",
    "Lee Nak-yon",
    "Muhriddin",
    "Kazakhstan",
    "Dushanbe",
    str(CORPUS.parent),
)
WRITE_REFUSED = "Only a logged-in user may add documents or re-ingest"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An ingested, writable copy of the corpus served on 0.0.0.0 with a login and two tokens
    (reached through 127.0.0.1; nothing gets in without the credentials)."""
    root = tmp_path_factory.mktemp("access")
    docs = root / "docs"
    shutil.copytree(CORPUS, docs)
    settings = Settings(home=root / "home", folder=docs)
    env = quiet_env(SOURCEBOOK_HOME=str(settings.home), SOURCEBOOK_FOLDER=str(docs))
    subprocess.run([SOURCEBOOK, "ingest"], env=env, check=True, capture_output=True)
    env |= {"SOURCEBOOK_AUTH": f"{USER}:{PASSWORD}", "SOURCEBOOK_API_KEYS": ",".join(KEYS)}
    with serving(env, root / "serve.log", host="0.0.0.0") as url:
        yield {"url": url, "docs": docs, "settings": settings, "log": root / "serve.log"}


def refused(r: httpx.Response) -> None:
    assert r.status_code == 401, (r.request.method, r.request.url, r.status_code, r.text[:200])
    assert r.json()["error"]["code"] == "invalid_api_key"
    assert not any(leak in r.text for leak in LEAKS), r.text


ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/models", {}),
    ("POST", "/v1/chat/completions",
     {"json": {"model": "sourcebook", "messages": [{"role": "user", "content": PRIME_MINISTER}]}}),
    ("GET", "/", {}),
    ("GET", "/config", {}),
    ("GET", "/gradio_api/info", {}),
    ("POST", "/gradio_api/call/ask", {"json": {"data": [PRIME_MINISTER, []]}}),
    ("GET", "/gradio_api/call/ask/0123456789abcdef", {}),
    ("POST", "/gradio_api/queue/join",
     {"json": {"data": [], "fn_index": 7, "session_hash": "s", "event_data": None}}),
    ("GET", "/gradio_api/queue/data?session_hash=s", {}),
    ("POST", "/gradio_api/upload", {"files": {"files": ("new.txt", b"A new document.")}}),
    ("GET", f"/gradio_api/file={CORPUS}/outcome-of-12th-rok-central-asia-cooperation-forum.txt",
     {}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_no_token_or_a_wrong_one_gets_401(
    site: dict[str, Any], method: str, path: str, body: dict[str, Any]
) -> None:
    forged = {"Cookie": "sourcebook-session=forged-session-token"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEYS[0]}, forged):
        refused(httpx.request(method, site["url"] + path, headers=headers, **body))


def test_the_right_token_works_with_the_openai_client(site: dict[str, Any]) -> None:
    for key in KEYS:
        client = openai.OpenAI(base_url=site["url"] + "/v1", api_key=key, max_retries=0)
        completion = client.chat.completions.create(
            model="sourcebook", messages=[{"role": "user", "content": PRIME_MINISTER}]
        )
        assert "Lee Nak-yon" in completion.choices[0].message.content
        for c in completion.citations:  # type: ignore[attr-defined]
            _, text = document_text(c["source"], site["settings"])
            assert text[c["start"] : c["end"]] == c["quote"]
    with pytest.raises(openai.AuthenticationError) as caught:
        openai.OpenAI(base_url=site["url"] + "/v1", api_key="wrong", max_retries=0).models.list()
    assert not any(leak in str(caught.value.body) for leak in LEAKS)


def test_the_right_token_works_with_gradio_client(site: dict[str, Any]) -> None:
    from gradio_client import Client

    client = Client(site["url"], headers={"Authorization": f"Bearer {KEYS[1]}"}, verbose=False)
    try:
        result = client.predict(PRIME_MINISTER, api_name="/ask")
    finally:
        client.close()
    assert result["answered"] and result["citations"]
    for c in result["citations"]:
        _, text = document_text(c["source"], site["settings"])
        assert text[c["start"] : c["end"]] == c["quote"]


def log_in(client: httpx.Client) -> httpx.Client:
    wrong = client.post("/login", data={"username": USER, "password": "guess"})
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    right = client.post("/login", data={"username": USER, "password": PASSWORD})
    assert right.status_code == 303 and client.cookies.get("sourcebook-session")
    return client


def test_a_browser_is_sent_to_the_login_and_then_let_in(site: dict[str, Any]) -> None:
    page = httpx.get(site["url"] + "/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login"
    with httpx.Client(base_url=site["url"]) as client:
        log_in(client)
        assert client.get("/", headers={"Accept": "text/html"}).status_code == 200
        assert client.get("/config").status_code == 200
        refused(client.post("/v1/chat/completions", json={}))  # a cookie does not open /v1
        client.get("/logout")
        refused(client.get("/config"))


def test_only_a_logged_in_user_may_upload_or_reingest(site: dict[str, Any]) -> None:
    bearer = {"Authorization": f"Bearer {KEYS[0]}"}
    with httpx.Client(base_url=site["url"], headers=bearer, timeout=120) as token_holder:
        assert WRITE_REFUSED in run_event(token_holder, "reingest", [])[0]
        files = {"files": ("by-token.txt", b"Written with a token.")}
        refused = token_holder.post("/gradio_api/upload", files=files)  # Gradio's cache too
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "login_required"
    assert not (site["docs"] / "uploads" / "by-token.txt").exists()
    with httpx.Client(base_url=site["url"], timeout=120) as user:
        log_in(user)
        text = b"The Silk Road Forum met in Samarkand in 2031."
        status = upload(user, "by-login.txt", text)[0]
        assert WRITE_REFUSED not in status and "1 added" in status
        assert WRITE_REFUSED not in run_event(user, "reingest", [])[0]
    assert (site["docs"] / "uploads" / "by-login.txt").exists()


def test_refuses_to_serve_beyond_loopback_without_credentials(tmp_path: Path) -> None:
    port = str(free_port())
    env = quiet_env(SOURCEBOOK_HOME=str(tmp_path / "home"))
    for host in ("0.0.0.0", "::"):
        out = subprocess.run(
            [SOURCEBOOK, "serve", "--host", host, "--port", port],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode != 0
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1, out.stderr
        assert lines[0].startswith(f"sourcebook: error: refusing to serve on {host} without")
        assert "SOURCEBOOK_AUTH" in lines[0] and "--insecure" in lines[0]


def test_a_bad_login_setting_is_one_line_without_the_password(tmp_path: Path) -> None:
    env = quiet_env(SOURCEBOOK_HOME=str(tmp_path / "home"), SOURCEBOOK_AUTH="ada-hunter2")
    out = subprocess.run(
        [SOURCEBOOK, "serve", "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == [
        "sourcebook: error: SOURCEBOOK_AUTH: login 1 is not user:password (a user name and a "
        "password separated by a colon)"
    ]


def test_api_keys_alone_serve_the_api_without_the_window(corpus_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Issue 19: tokens without logins gave a chat window that nobody could log in to; --no-ui
    # serves the OpenAI-compatible API alone (no window, no Gradio API), on any address.
    env = quiet_env(SOURCEBOOK_HOME=str(corpus_settings.home), SOURCEBOOK_API_KEYS=KEYS[0])
    log = tmp_path / "serve.log"
    with serving(env, log, "--no-ui", host="0.0.0.0") as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key=KEYS[0])
        question = {"role": "user", "content": PRIME_MINISTER}
        r = client.chat.completions.create(model="sourcebook", messages=[question])  # type: ignore[list-item]
        assert r.choices[0].message.content and r.citations  # type: ignore[attr-defined]
        refused(httpx.get(url + "/v1/models"))
        token = {"Authorization": f"Bearer {KEYS[0]}"}
        for path in ("/", "/config", "/gradio_api/info", "/login"):
            assert httpx.get(url + path, headers=token).status_code == 404, path
        assert httpx.get(url + "/", headers={"Accept": "text/html"}).status_code == 401
    assert "nobody can log in" not in log.read_text()


def test_logins_alone_do_not_open_the_api_alone(tmp_path: Path) -> None:
    env = quiet_env(SOURCEBOOK_HOME=str(tmp_path / "home"), SOURCEBOOK_AUTH=f"{USER}:{PASSWORD}")
    out = subprocess.run(
        [SOURCEBOOK, "serve", "--no-ui", "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "sourcebook: error: --no-ui serves only the OpenAI-compatible API (/v1), which takes "
        "bearer tokens, not logins: set SOURCEBOOK_API_KEYS=token (SOURCEBOOK_AUTH is for the "
        "chat window)"
    ]


def test_insecure_serves_anyone(corpus_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = quiet_env(SOURCEBOOK_HOME=str(corpus_settings.home))
    log = tmp_path / "serve.log"
    with serving(env, log, "--insecure", host="0.0.0.0") as url:
        assert httpx.get(url + "/v1/models").status_code == 200
    assert "to anyone who can reach it (--insecure)" in log.read_text()

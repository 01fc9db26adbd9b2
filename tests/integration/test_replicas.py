"""Two `sourcebook serve` processes on loopback, each with a home of its own, sharing one index in
a real PostgreSQL and a real Chroma server: a change ingested through one is answered by the
other, a login made on one is accepted by the other (and a logout ends it on both), 8 users
spread over both get the library's answers, and a PostgreSQL restart costs each request one
clear line, then everything comes back with nothing lost."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.answering.pipeline import answer
from app.library import forget_open_indexes, ingest
from app.settings import Settings
from tests.helpers import (
    CORPUS,
    SOURCEBOOK,
    Postgres,
    chunk_ids,
    drop_database,
    new_database,
    quiet_env,
    serving,
)

pytestmark = pytest.mark.integration

USER, PASSWORD, KEY = "reader", "shared secret 9", "key-replicas-31"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUESTIONS = [
    "Which prime minister visited Tajikistan and Kyrgyzstan?",
    "When were diplomatic relations between Korea and Central Asia established?",
    "When did the first Korea-Central Asia high-level officials meeting take place?",
    "In which city did the 14th Central Asia-ROK Cooperation Forum take place?",
    "On what date did the 14th forum take place?",
    "Who won the 2014 Nobel Prize in Literature?",
    "What did the participants agree about working-level group meetings?",
    "Which agencies sent experts on standardization and water resources?",
]


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    return quiet_env(
        SOURCEBOOK_HOME=str(settings.home),
        SOURCEBOOK_FOLDER=str(settings.folder),
        SOURCEBOOK_DATABASE_URL=str(settings.database_url),
        SOURCEBOOK_CHROMA_URL=str(settings.chroma_url),
        **extra,
    )


def ask(url: str, question: str) -> httpx.Response:
    body = {"model": "sourcebook", "messages": [{"role": "user", "content": question}]}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=AUTH, timeout=120)


def until(check: Callable[[], bool], seconds: float = 90) -> None:
    """A readiness poll with a safety net, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, chroma_url: str
) -> Iterator[dict[str, Any]]:
    """The corpus (a writable copy) ingested into a new database; server A follows the folder
    (--watch), server B only answers; both with a login and a token."""
    root = tmp_path_factory.mktemp("replicas")
    docs = root / "docs"
    shutil.copytree(CORPUS, docs)
    database = new_database(postgres_url)
    make = lambda home: Settings(  # noqa: E731
        home=root / home, folder=docs, database_url=database, chroma_url=chroma_url
    )
    library = make("library")
    ingest(settings=library)
    extra = {"SOURCEBOOK_AUTH": f"{USER}:{PASSWORD}", "SOURCEBOOK_API_KEYS": KEY}
    with ExitStack() as servers:
        a = servers.enter_context(serving(env_of(make("a"), **extra), root / "a.log", "--watch"))
        b = servers.enter_context(serving(env_of(make("b"), **extra), root / "b.log"))
        yield {"a": a, "b": b, "library": library, "docs": docs}
    forget_open_indexes()
    drop_database(postgres_url, database)


def cited(r: httpx.Response) -> set[str]:
    data = r.json()
    passages = data["citations"] + data["sourcebook"].get("closest", [])
    return {c["source"] for c in passages}


def test_a_change_ingested_through_one_server_is_answered_by_the_other(
    pair: dict[str, Any],
) -> None:
    question = "What does the quokka of Kazan juggle at dawn?"
    assert "kazan-quokka.md" not in cited(ask(pair["b"], question))
    (pair["docs"] / "kazan-quokka.md").write_text(
        "# The quokka of Kazan\n\nThe quokka of Kazan juggles marmalade jars at dawn.\n"
    )  # A's watcher ingests it: A is the writer
    until(lambda: "kazan-quokka.md" in cited(ask(pair["b"], question)))
    library = answer(question, settings=pair["library"])
    assert [c.source for c in library.citations] == ["kazan-quokka.md"]
    # B answers as the library does once its keyword index has followed the log (which also
    # tells the answerer that "quokka" is a word some passage holds).
    until(
        lambda: (
            ask(pair["b"], question).json()["citations"] == [asdict(c) for c in library.citations]
        )
    )


def log_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    r = client.post("/login", data={"username": USER, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return client


def window(url: str, cookies: httpx.Cookies) -> int:
    page = httpx.get(url + "/", cookies=cookies, headers={"Accept": "text/html"}, timeout=60)
    return page.status_code


def test_a_login_made_on_one_server_is_accepted_by_the_other_and_logout_ends_it_on_both(
    pair: dict[str, Any],
) -> None:
    on_a = log_in(pair["a"])
    cookies = httpx.Cookies(on_a.cookies)
    on_a.close()
    assert window(pair["b"], cookies) == 200
    assert window(pair["a"], cookies) == 200
    copy = httpx.Cookies(cookies)
    with httpx.Client(base_url=pair["b"], cookies=cookies, timeout=60) as on_b:
        assert on_b.get("/logout").status_code == 303
    assert window(pair["a"], copy) == 303  # sent to /login: the session ended everywhere
    assert window(pair["b"], copy) == 303


def test_eight_users_over_two_servers_get_the_librarys_answers(pair: dict[str, Any]) -> None:
    expected = {q: answer(q, settings=pair["library"]) for q in QUESTIONS}
    problems: list[str] = []

    def user(n: int) -> None:
        url = pair["a"] if n % 2 else pair["b"]
        for i in range(4):
            question = QUESTIONS[(n + i) % len(QUESTIONS)]
            r = ask(url, question)
            if r.status_code != 200:
                problems.append(f"user {n}: {r.status_code} {r.text[:200]}")
                continue
            data, want = r.json(), expected[question]
            same = data["citations"] == [asdict(c) for c in want.citations]
            same &= data["choices"][0]["message"]["content"].startswith(want.text)
            same &= data["sourcebook"]["answered"] == want.answered
            if not same:
                problems.append(f"user {n}: a different answer to {question!r}")

    users = [threading.Thread(target=user, args=(n,)) for n in range(8)]
    for t in users:
        t.start()
    for t in users:
        t.join(timeout=600)
    assert not problems, problems


def test_a_rebuild_from_another_machine_leaves_both_servers_answering(
    pair: dict[str, Any],
) -> None:
    """Regression guard: a rebuild that deleted and recreated the Chroma collection left every
    other server holding a collection that no longer exists."""
    before = {url: ask(url, QUESTIONS[1]).json()["citations"] for url in (pair["a"], pair["b"])}
    library = pair["library"]
    rebuilt = subprocess.run(
        [SOURCEBOOK, "ingest", "--rebuild"], env=env_of(library), capture_output=True, text=True
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    for url, citations in before.items():
        until(
            lambda url=url, citations=citations: (
                ask(url, QUESTIONS[1]).json().get("citations") == citations
            )
        )


# -- PostgreSQL restarted under a running server


def test_a_postgres_restart_costs_each_request_one_line_then_all_comes_back(
    tmp_path: Path, chroma_url: str
) -> None:
    server = Postgres().start()
    try:
        database = new_database(server.url)
        settings = Settings(
            home=tmp_path / "library", folder=CORPUS, database_url=database, chroma_url=chroma_url
        )  # type: ignore[call-arg]
        ingest(settings=settings)
        ids = chunk_ids(settings)
        forget_open_indexes()
        home = Settings(
            home=tmp_path / "a", folder=CORPUS, database_url=database, chroma_url=chroma_url
        )  # type: ignore[call-arg]
        with serving(env_of(home, SOURCEBOOK_API_KEYS=KEY), tmp_path / "a.log") as url:
            before = ask(url, QUESTIONS[0])
            assert before.status_code == 200
            server.stop()
            for question in QUESTIONS[:3]:
                r = ask(url, question)
                message = r.json()["error"]["message"]
                assert r.status_code == 503 and "\n" not in message, r.text
                assert "PostgreSQL database" in message and "unreachable" in message, message
            cli = subprocess.run(
                [SOURCEBOOK, "ask", QUESTIONS[0]], env=env_of(home), capture_output=True, text=True
            )
            lines = [x for x in cli.stderr.splitlines() if x.startswith("sourcebook: ")]
            assert cli.returncode == 1 and len(lines) == 1 and "unreachable" in lines[0]
            server.start()
            until(lambda: ask(url, QUESTIONS[0]).status_code == 200)
            after = ask(url, QUESTIONS[0]).json()
            assert after["citations"] == before.json()["citations"]
            assert after["choices"] == before.json()["choices"]
        assert chunk_ids(settings) == ids  # nothing lost
        forget_open_indexes()
    finally:
        server.remove()

"""The OpenAI-compatible API of a running `sourcebook serve`, driven by the real `openai` client:
answers keep their [n] markers, a readable sources list, and their citations as data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from app.library import document_text
from tests.helpers import quiet_env, serving

pytestmark = pytest.mark.integration

PRIME_MINISTER = "Which prime minister visited Tajikistan and Kyrgyzstan?"
FORUM = "In which city did the 14th forum take place?"
UNANSWERABLE = "Who won the 2014 Nobel Prize in Literature?"


@pytest.fixture(scope="module")
def server(corpus_settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    env = quiet_env(SOURCEBOOK_HOME=str(corpus_settings.home))
    with serving(env, tmp_path_factory.mktemp("openai") / "serve.log") as url:
        yield url


@pytest.fixture
def client(server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server}/v1", api_key="not-needed", max_retries=0)


def ask(client: openai.OpenAI, *messages: dict[str, str], **extra: Any) -> Any:
    return client.chat.completions.create(model="sourcebook", messages=messages, **extra)  # type: ignore[call-overload]


def assert_citations_intact(citations: list[dict[str, Any]], content: str, settings: Any) -> None:
    """Each citation's quote is the document's text at its offsets, and the readable sources
    list under the answer shows it."""
    assert citations
    for c in citations:
        _, text = document_text(c["source"], settings)
        assert text[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in content.split("Sources:")[0]
        assert " ".join(c["quote"].split()) in content.split("Sources:")[1]


def test_models(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["sourcebook"]


def test_answer_with_citations(client: openai.OpenAI, corpus_settings) -> None:  # type: ignore[no-untyped-def]
    completion = ask(client, {"role": "user", "content": PRIME_MINISTER})
    content = completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert "Lee Nak-yon" in content and "\n\nSources:\n[1] " in content
    assert_citations_intact(completion.citations, content, corpus_settings)
    assert completion.sourcebook["answered"] is True


def test_streaming_gives_the_same_answer(client: openai.OpenAI, corpus_settings) -> None:  # type: ignore[no-untyped-def]
    chunks = list(ask(client, {"role": "user", "content": PRIME_MINISTER}, stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    whole = ask(client, {"role": "user", "content": PRIME_MINISTER})
    assert content == whole.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.citations == whole.citations
    assert_citations_intact(last.citations, content, corpus_settings)
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_follow_up_reads_the_conversation(client: openai.OpenAI, corpus_settings) -> None:  # type: ignore[no-untyped-def]
    first = ask(client, {"role": "user", "content": FORUM})
    reply = first.choices[0].message.content  # sent back whole, sources list and all
    follow = ask(
        client,
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": FORUM},
        {"role": "assistant", "content": reply},
        {"role": "user", "content": "On what date was it held?"},
    )
    content = follow.choices[0].message.content
    assert "November 30" in content
    assert "14th" in follow.sourcebook["standalone_question"]
    assert_citations_intact(follow.citations, content, corpus_settings)


def test_refusal_says_so_and_lists_the_closest_passages(client: openai.OpenAI) -> None:
    for stream in (False, True):
        if stream:
            chunks = list(ask(client, {"role": "user", "content": UNANSWERABLE}, stream=True))
            content = "".join(c.choices[0].delta.content or "" for c in chunks)
            data = chunks[-1]
        else:
            data = ask(client, {"role": "user", "content": UNANSWERABLE})
            content = data.choices[0].message.content
        assert content.startswith("The documents don't say")
        assert "Closest passages (not an answer):" in content and "[1]" not in content
        assert data.citations == [] and data.sourcebook["answered"] is False
        assert data.sourcebook["closest"]


def test_a_source_filter_in_the_request_body(client: openai.OpenAI) -> None:
    only = "14th-central-asia-rok-cooperation-forum-dushanbe.txt"
    question = "When were diplomatic relations between Korea and Central Asia established?"
    completion = ask(client, {"role": "user", "content": question}, extra_body={"sources": [only]})
    assert {c["source"] for c in completion.citations} == {only}


@pytest.mark.parametrize(
    ("messages", "model", "error", "param"),
    [
        ([], "sourcebook", openai.BadRequestError, "messages"),
        ([{"role": "assistant", "content": "hi"}], "sourcebook", openai.BadRequestError,
         "messages[0].role"),
        ([{"role": "user", "content": "   "}], "sourcebook", openai.BadRequestError, "messages"),
        ([{"role": "user", "content": "why " * 1000}], "sourcebook", openai.BadRequestError,
         "messages"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
         "sourcebook", openai.BadRequestError, "messages[0].content"),
        ([{"role": "robot", "content": "hi"}], "sourcebook", openai.BadRequestError,
         "messages[0].role"),
        ([{"role": "user", "content": PRIME_MINISTER}], "gpt-4o", openai.NotFoundError, "model"),
    ],
)  # fmt: skip
def test_malformed_requests_get_a_clear_4xx(
    client: openai.OpenAI, messages: list[Any], model: str, error: type[Exception], param: str
) -> None:
    for stream in (False, True):
        with pytest.raises(error) as caught:
            client.chat.completions.create(model=model, messages=messages, stream=stream)
        body = caught.value.body  # type: ignore[attr-defined]
        assert set(body) == {"message", "type", "param", "code"}
        assert body["type"] == "invalid_request_error" and body["param"] == param
        assert body["message"] and "\n" not in body["message"]


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/v1/chat/completions", b"{not json"),
        ("POST", "/v1/chat/completions", b"[1, 2]"),
        ("POST", "/v1/chat/completions", b""),
        ("POST", "/v1/chat/completions", b'{"model": "sourcebook", "messages": "hi"}'),
        ("POST", "/v1/chat/completions", b'{"model": "sourcebook", "messages": [], "n": 2}'),
        ("GET", "/v1/chat/completions", b""),
        ("POST", "/v1/embeddings", b"{}"),
        ("POST", "/v1/chat/completions", b'{"model": "' + b"x" * 5_000_000 + b'"}'),
    ],
    ids=lambda v: v[:40] if isinstance(v, bytes) else v,
)
def test_malformed_bodies_and_paths_get_an_openai_error(
    server: str, method: str, path: str, content: bytes
) -> None:
    r = httpx.request(
        method, server + path, content=content, headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_stream_is_server_sent_events(server: str) -> None:
    body = {"model": "sourcebook", "stream": True, "messages": [{"role": "user", "content": FORUM}]}
    with httpx.stream("POST", f"{server}/v1/chat/completions", json=body) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    last = json.loads(events[-2][len("data: ") :])
    assert last["choices"][0]["finish_reason"] == "stop" and "citations" in last

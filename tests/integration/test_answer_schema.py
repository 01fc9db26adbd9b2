"""One shape of an answer through every way in (README "Use it from…"), held by one test: the
library's `answer_json`, `sourcebook ask --json`, Gradio's `/ask` through gradio_client, `/v1`
through the openai client (its `citations` and `sourcebook` fields together, whole and streamed)
and MCP's `ask` through the SDK's stdio client give the same JSON, whose fields are
`AnswerData`'s; the readable text of `/v1`, MCP and the CLI is the library's `answer_text`."""

from __future__ import annotations

import json
import subprocess
from dataclasses import fields
from typing import Any

import pytest

from app.answering.pipeline import answer
from app.answering.serialize import AnswerData, answer_json, answer_text
from app.answering.types import Citation
from store import Hit
from tests.helpers import SOURCEBOOK, quiet_env, serving, with_session

pytestmark = pytest.mark.integration

QUESTIONS = (
    "In which city did the 14th forum take place?",
    "Who won the 2014 Nobel Prize in Literature?",  # a refusal: the closest passages come along
)
SHAPE = {
    "answer": set(AnswerData.model_fields),
    "citation": {f.name for f in fields(Citation)},
    "passage": {f.name for f in fields(Hit)} - {"doc_hash"},
}


def assert_the_shape(data: dict[str, Any], way: str) -> None:
    assert set(data) == SHAPE["answer"], way
    assert all(set(c) == SHAPE["citation"] for c in data["citations"]), way
    assert all(set(p) == SHAPE["passage"] for p in data["closest"]), way
    AnswerData.model_validate(data)


def rounded(data: Any) -> Any:
    """Floats to 6 places: a similarity computed in another process may differ in its last bit."""
    if isinstance(data, dict):
        return {k: rounded(v) for k, v in data.items()}
    if isinstance(data, list):
        return [rounded(v) for v in data]
    return round(data, 6) if isinstance(data, float) else data


def by_cli(env: dict[str, str], question: str) -> tuple[dict[str, Any], str]:
    def run(*args: str) -> str:
        out = subprocess.run([SOURCEBOOK, "ask", *args, question], env=env, capture_output=True,
                             text=True, timeout=300, check=True)  # fmt: skip
        return out.stdout

    return json.loads(run("--json")), run().removesuffix("\n")


def by_server(env: dict[str, str], log: Any) -> dict[str, list[tuple[dict[str, Any], str]]]:
    import openai
    from gradio_client import Client

    out: dict[str, list[tuple[dict[str, Any], str]]] = {"/ask": [], "/v1": [], "/v1 stream": []}
    with serving(env, log) as url:
        gradio = Client(f"{url}/", verbose=False)
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="not-needed", max_retries=0)
        for q in QUESTIONS:
            out["/ask"].append((gradio.predict(q, api_name="/ask"), ""))
            messages = [{"role": "user", "content": q}]
            r = client.chat.completions.create(model="sourcebook", messages=messages)  # type: ignore[arg-type]
            whole = {**r.sourcebook, "citations": r.citations}  # type: ignore[attr-defined]
            out["/v1"].append((whole, r.choices[0].message.content or ""))
            chunks = list(client.chat.completions.create(model="sourcebook", messages=messages,  # type: ignore[arg-type]
                                                         stream=True))  # fmt: skip
            last = {**chunks[-1].sourcebook, "citations": chunks[-1].citations}  # type: ignore[attr-defined]
            text = "".join(c.choices[0].delta.content or "" for c in chunks)
            out["/v1 stream"].append((last, text))
    return out


def by_mcp(settings: Any) -> list[tuple[dict[str, Any], str]]:
    async def work(session: Any) -> list[Any]:
        return [await session.call_tool("ask", {"question": q}) for q in QUESTIONS]

    return [(r.structured_content, r.content[0].text) for r in with_session(settings, work)]


def test_every_interface_gives_the_one_shape(corpus_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    answers = [answer(q, settings=corpus_settings) for q in QUESTIONS]
    library = [answer_json(a) for a in answers]
    env = quiet_env(SOURCEBOOK_HOME=str(corpus_settings.home))
    ways = {"CLI": [by_cli(env, q) for q in QUESTIONS], "MCP": by_mcp(corpus_settings)}
    ways |= by_server(env, tmp_path / "serve.log")
    assert library[0]["answered"] and library[0]["citations"] and not library[0]["closest"]
    assert not library[1]["answered"] and library[1]["closest"]
    for i, expected in enumerate(library):
        assert_the_shape(expected, "library")
        for way, results in ways.items():
            data, text = results[i]
            assert_the_shape(data, way)
            assert rounded(data) == rounded(expected), way
            if text:  # /ask gives data alone
                assert text == answer_text(answers[i]), way

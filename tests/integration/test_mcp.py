"""`sourcebook mcp` driven by the official MCP SDK's own client, which starts it as a subprocess
over stdio: its tools answer with citations intact (quote, source, offsets) and its resources
describe the index."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import ClientSession

from app.library import document_text
from tests.helpers import with_session

pytestmark = pytest.mark.integration

PRIME_MINISTER = "Which prime minister visited Tajikistan and Kyrgyzstan?"
FORUM = "In which city did the 14th forum take place?"
FIRST = "14th-central-asia-rok-cooperation-forum-dushanbe.txt"


async def call(session: ClientSession, tool: str, **arguments: Any) -> Any:
    return await session.call_tool(tool, arguments)


def test_tools_and_resources(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    async def work(session: ClientSession) -> tuple[Any, ...]:
        return (
            await session.list_tools(),
            await session.list_resources(),
            await session.read_resource("sourcebook://status"),
            await session.read_resource("sourcebook://documents"),
        )

    tools, resources, status, documents = with_session(corpus_settings, work)
    by_name = {t.name: t for t in tools.tools}
    assert set(by_name) == {"search", "ask", "open_source"}
    assert {"question", "history", "sources"} <= set(by_name["ask"].input_schema["properties"])
    assert "citations" in by_name["ask"].output_schema["properties"]
    assert {str(r.uri) for r in resources.resources} == {
        "sourcebook://status",
        "sourcebook://documents",
    }
    shown = json.loads(status.contents[0].text)
    assert shown["documents"] == 5 and shown["chunks"] > 0
    assert shown["home"] == str(corpus_settings.home.resolve())
    assert FIRST in json.loads(documents.contents[0].text)


def test_ask_then_open_the_cited_source(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    async def work(session: ClientSession) -> tuple[Any, Any, Any]:
        asked = await call(session, "ask", question=PRIME_MINISTER)
        cite = asked.structured_content["citations"][0]
        opened = await call(
            session, "open_source", source=cite["source"], start=cite["start"],
            end=cite["end"], context=80,
        )  # fmt: skip
        follow = await call(
            session, "ask", question="On what date was it held?",
            history=[{"role": "user", "content": FORUM}],
        )  # fmt: skip
        return asked, opened, follow

    asked, opened, follow = with_session(corpus_settings, work)
    assert not asked.is_error
    data = asked.structured_content
    assert data["answered"] and "Lee Nak-yon" in data["answer"]
    readable = asked.content[0].text
    assert readable.startswith(data["answer"]) and "\n\nSources:\n[1] " in readable
    for answer in (data, follow.structured_content):
        assert answer["citations"]
        for c in answer["citations"]:
            _, text = document_text(c["source"], corpus_settings)
            assert text[c["start"] : c["end"]] == c["quote"]
            assert f"[{c['n']}]" in answer["answer"]
    assert "November 30" in follow.structured_content["answer"]
    span = opened.structured_content
    cite = data["citations"][0]
    assert span["quote"] == cite["quote"]
    _, text = document_text(cite["source"], corpus_settings)
    assert span["text"] == text[span["text_start"] : span["text_end"]]
    assert span["text_start"] == max(0, cite["start"] - 80) and span["length"] == len(text)
    assert f"⟦{cite['quote']}⟧" in opened.content[0].text


def test_search_refusal_and_bad_calls(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    async def work(session: ClientSession) -> list[Any]:
        return [
            await call(session, "search", query="water resources", k=3),
            await call(session, "ask", question="Who won the 2014 Nobel Prize in Literature?"),
            await call(session, "ask", question="   "),
            await call(session, "open_source", source="../../etc/passwd", start=0, end=5),
            await call(session, "open_source", source=FIRST, start=10, end=999_999),
            await call(session, "search", query="water", k=0),
        ]

    found, refused, *bad = with_session(corpus_settings, work)
    passages = found.structured_content["passages"]
    assert len(passages) == 3
    for p in passages:
        _, text = document_text(p["source"], corpus_settings)
        assert text[p["start"] : p["end"]] == p["text"]
    answer = refused.structured_content
    assert not answer["answered"] and answer["citations"] == [] and answer["closest"]
    assert "Closest passages (not an answer):" in refused.content[0].text
    messages = [r.content[0].text for r in bad]
    assert all(r.is_error for r in bad), messages
    assert "the question is empty" in messages[0]
    assert "is not a document in the index" in messages[1]
    assert "start and end must satisfy" in messages[2]
    assert "k" in messages[3]
    assert not any("Traceback" in m for m in messages)

"""`sourcebook mcp`: a Model Context Protocol server over stdio (the official `mcp` SDK).

Tools: `search` (passages with their offsets), `ask` (a cited answer), `open_source` (a
document's text around given offsets). Resources: `sourcebook://status` (the index) and
`sourcebook://documents` (what it holds). Each tool returns readable text for the model and the
same as structured data (citations with quote, source, start, end) for the client.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from app import library
from app.answering.pipeline import answer
from app.answering.serialize import (
    AnswerData,
    answer_json,
    answer_text,
    history_turns,
    located,
    passages_json,
)
from app.interfaces.errors import user_message
from app.settings import Settings
from store import Hit

log = logging.getLogger(__name__)

MAX_OPEN_CHARS = 50_000
T = TypeVar("T")


class SearchOutput(BaseModel):
    """The passages found, each `document_text(source)[start:end] == text` (the passages of
    `AnswerData`)."""

    query: str
    passages: list[Hit]


class SourceOutput(BaseModel):
    """`text` is the document from `text_start` to `text_end`; `quote` is [start:end] of it."""

    source: str
    title: str
    length: int
    start: int
    end: int
    quote: str
    text_start: int
    text_end: int
    text: str


def result(readable: str, data: dict[str, Any]) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=readable)], structured_content=data
    )


def told(work: Callable[[], T]) -> T:
    """Run a tool's work; an error the user can act on reaches the client as its one line."""
    try:
        return work()
    except ToolError:
        raise
    except Exception as e:
        message = user_message(e)
        if message is None:
            raise  # a bug of ours: the SDK logs it and tells the client only that it failed
        raise ToolError(message) from e


def open_span(settings: Settings, source: str, start: int, end: int, context: int) -> SourceOutput:
    title, text = library.document_text(source, settings)
    if not 0 <= start <= end <= len(text):
        raise ToolError(
            f"{source} has {len(text)} characters: start and end must satisfy "
            f"0 <= start <= end <= {len(text)}"
        )
    lo, hi = max(0, start - context), min(len(text), end + context)
    if hi - lo > MAX_OPEN_CHARS:
        raise ToolError(f"that is {hi - lo} characters; ask for at most {MAX_OPEN_CHARS}")
    return SourceOutput(
        source=source,
        title=title,
        length=len(text),
        start=start,
        end=end,
        quote=text[start:end],
        text_start=lo,
        text_end=hi,
        text=text[lo:hi],
    )


def span_text(span: SourceOutput) -> str:
    """The opened text for a reader: where it is, then the text with the span in ⟦ ⟧."""
    before = span.text[: span.start - span.text_start]
    after = span.text[span.end - span.text_start :]
    head = (
        f"{span.source}, characters {span.text_start}-{span.text_end} of {span.length}; "
        f"the span {span.start}-{span.end} is between ⟦ ⟧:"
    )
    return f"{head}\n{before}⟦{span.quote}⟧{after}"


def make_server(settings: Settings) -> MCPServer[Any]:
    @asynccontextmanager
    async def warming(_: MCPServer[Any]) -> AsyncIterator[None]:
        # The model loads while the client connects; stdout is the wire by now (the SDK points
        # fd 1 at stderr while it serves), so nothing a library prints can corrupt it.
        threading.Thread(target=warm_up, args=(settings,), daemon=True).start()
        yield None

    server: MCPServer[Any] = MCPServer(
        name="sourcebook",
        version=version("sourcebook"),
        instructions="Answers from a folder of documents, every claim cited to a verbatim quote "
        "with exact character offsets. Use `ask` for an answer, `search` for passages, and "
        "`open_source` to read a document around a citation's offsets.",
        lifespan=warming,
        log_level="WARNING",
    )
    add_tools(server, settings)
    add_resources(server, settings)
    return server


def add_tools(server: MCPServer[Any], settings: Settings) -> None:
    @server.tool()
    def search(
        query: str,
        k: Annotated[int, Field(ge=1, le=50, description="How many passages")] = 5,
        sources: Annotated[list[str] | None, Field(description="Only these documents")] = None,
    ) -> Annotated[CallToolResult, SearchOutput]:
        """Find the passages that best match a query (hybrid search: meaning and keywords).
        Each passage gives its document (source), character offsets (start, end) and text."""
        hits = told(lambda: library.find(query, k=k, sources=sources, settings=settings))
        lines = [f"[{i}] {located(h)}:\n{h.text}" for i, h in enumerate(hits, 1)]
        data = {"query": query, "passages": passages_json(hits)}
        return result("\n\n".join(lines) or "no passages match", data)

    @server.tool()
    def ask(
        question: str,
        history: Annotated[
            list[dict[str, str]] | None,
            Field(description='Earlier turns, oldest first: [{"role": "user", "content": ...}]'),
        ] = None,
        sources: Annotated[list[str] | None, Field(description="Only these documents")] = None,
    ) -> Annotated[CallToolResult, AnswerData]:
        """Answer a question from the documents. The answer cites each claim with [n]; citation
        n is a verbatim quote with its document and character offsets. When the documents do
        not hold the answer it says so (answered: false) and lists the closest passages."""
        turns = history_turns(history or [])
        final = told(lambda: answer(question, turns, sources=sources, settings=settings))
        return result(answer_text(final), answer_json(final))

    @server.tool()
    def open_source(
        source: str,
        start: Annotated[int, Field(ge=0, description="First character of the span")],
        end: Annotated[int, Field(ge=0, description="Character after the span")],
        context: Annotated[int, Field(ge=0, le=5000, description="Characters around it")] = 500,
    ) -> Annotated[CallToolResult, SourceOutput]:
        """Read a document around a span (e.g. a citation's start and end): the span itself
        (quote) and `context` characters either side."""
        span = told(lambda: open_span(settings, source, start, end, context))
        return result(span_text(span), span.model_dump(mode="json"))


def add_resources(server: MCPServer[Any], settings: Settings) -> None:
    @server.resource("sourcebook://status", name="status", mime_type="application/json")
    def status() -> str:
        """The index: folder, documents, chunks, embedding model, answerer, last ingest."""
        return json.dumps(library.index_status(settings), indent=2)

    @server.resource("sourcebook://documents", name="documents", mime_type="application/json")
    def documents() -> str:
        """The indexed documents, by source (the names `search`, `ask` and `open_source` use)."""
        try:
            return json.dumps(library.list_sources(settings), indent=2)
        except library.NoIndexError:
            return "[]"


def warm_up(settings: Settings) -> None:
    try:
        library.warm_up(settings)
    except Exception:  # the edge of a thread: a failure here shows on the first tool call
        log.exception("warming up the index failed")


def run(settings: Settings) -> None:
    """Serve MCP over stdin/stdout until the client closes it."""
    make_server(settings).run("stdio")

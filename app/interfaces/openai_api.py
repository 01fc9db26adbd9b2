"""The OpenAI-compatible API of `sourcebook serve`: GET /v1/models, POST /v1/chat/completions.

The conversation comes from `messages` (the last user message is the question, the turns before
it the history). The reply's text is the answer with its [n] markers and a readable sources list
under it, so a client that knows nothing of Sourcebook still shows them. The citations also come
as data, in a top-level `citations` array (on the response, and on the last chunk of a stream):
they belong to the whole answer rather than to one choice, an extra top-level field passes
through the `openai` SDK (`completion.citations`) and proxies that copy unknown fields, and,
unlike a field inside `message`, it is not sent back as history on the next turn. OpenAI's own
`message.annotations` would not do: their offsets point into the reply, ours into the document.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from app.answering.followup import Turn
from app.answering.pipeline import stream_answer
from app.answering.serialize import answer_json, answer_text, history_turns
from app.answering.types import Answer, AnswerError
from app.interfaces.errors import user_message
from app.library import NoIndexError
from app.settings import Settings
from store import SourcebookError

log = logging.getLogger(__name__)

MODEL = "sourcebook"


class ApiError(SourcebookError):
    """A request the OpenAI-compatible API refuses; `body()` is OpenAI's error shape."""

    def __init__(
        self, status: int, message: str, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def body(self) -> dict[str, Any]:
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        return {
            "error": {"message": self.message, "type": kind, "param": self.param, "code": self.code}
        }


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None


class ChatRequest(BaseModel):
    """The fields Sourcebook reads; others (temperature, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[Message] = Field(min_length=1)
    stream: StrictBool | None = None  # as OpenAI's: "yes" or 1 is not a boolean
    n: StrictInt = Field(default=1, ge=1, le=1)
    sources: list[str] | None = None  # Sourcebook's own: only these documents


def text_of(message: Message, where: str) -> str:
    if isinstance(message.content, str) or message.content is None:
        return message.content or ""
    parts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise ApiError(400, f"only text content is supported, not {part.type!r}", where)
        parts.append(part.text)
    return "\n".join(parts)


def conversation(messages: list[Message]) -> tuple[str, list[Turn]]:
    """(question, history): the last message is the user's question, the user and assistant
    turns before it the history (system messages are not instructions for an extractive
    answerer, and the generative one has its own)."""
    last = len(messages) - 1
    if messages[last].role != "user":
        raise ApiError(
            400, "the last message must be the user's question", f"messages[{last}].role"
        )
    question = text_of(messages[last], f"messages[{last}].content")
    history: list[Turn] = []
    for i, m in enumerate(messages[:last]):
        if m.role in ("user", "assistant"):
            history.append({"role": m.role, "content": text_of(m, f"messages[{i}].content")})
    return question, history_turns(history)


def completion(final: Answer, cid: str, created: int) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer_text(final)},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        **structured(final),
    }


def structured(final: Answer) -> dict[str, Any]:
    """The answer's JSON (`answer_json`) in two top-level fields: `citations`, and the rest as
    `sourcebook`; together they are the shape every interface gives."""
    data = answer_json(final)
    return {"citations": data.pop("citations"), "sourcebook": data}


def chunk(
    cid: str, created: int, delta: dict[str, str], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def sse(data: dict[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def events(answers: Iterator[Answer], cid: str, created: int) -> Iterator[str]:
    """The answer as server-sent events: the text as it grows, then the sources list, then a
    last chunk carrying `finish_reason` and the citations; `[DONE]` ends it."""
    yield sse(chunk(cid, created, {"role": "assistant", "content": ""}))
    shown, final = "", None
    try:
        for final in answers:
            # Partial answers only grow; should a final one differ, it starts on a new line.
            text = final.text if final.text.startswith(shown) else f"{shown}\n\n{final.text}"
            if text[len(shown) :]:
                yield sse(chunk(cid, created, {"content": text[len(shown) :]}))
                shown = text
    except Exception as e:  # the headers are sent: the error travels as an event
        yield sse(to_api_error(e).body())
        return
    if final is not None:
        rest = answer_text(final)[len(final.text) :]
        if rest:
            yield sse(chunk(cid, created, {"content": rest}))
        last = chunk(cid, created, {}, "stop")
        last |= structured(final)
        yield sse(last)
    yield sse("[DONE]")


def to_api_error(error: Exception) -> ApiError:
    """Errors a user can act on keep their one-line message; ours are logged, not shown."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, AnswerError):
        return ApiError(400, str(error), "messages", "invalid_question")
    if isinstance(error, NoIndexError):
        return ApiError(503, str(error), None, "no_index")
    message = user_message(error)
    if message is not None:
        return ApiError(503, message, None, "unavailable")
    log.error("unexpected error in the OpenAI API", exc_info=error)
    return ApiError(500, f"internal error ({type(error).__name__}); it has been logged")


async def read_request(request: Request, max_bytes: int) -> ChatRequest:
    """The request body, parsed; too large, cut short, not JSON or not a chat request is a 4xx
    here (FastAPI's own checks would answer in their shape, not OpenAI's). A long conversation
    is a few hundred kB; the server's BodyLimit has refused anything over `max_bytes` already."""
    body = bytearray()
    try:
        async for part in request.stream():
            body += part
            if len(body) > max_bytes:
                message = f"the request body is over {max_bytes / 1e6:g} MB"
                raise ApiError(413, message, None, "request_too_large")
    except ClientDisconnect as e:
        # The client went away mid-body: one line, no traceback; the answer goes nowhere.
        log.warning("a request to %s was cut short after %d bytes", request.url.path, len(body))
        raise ApiError(400, "the request body was cut short", None, "incomplete_body") from e
    try:
        return ChatRequest.model_validate_json(bytes(body))
    except ValidationError as e:
        raise invalid_request(e.errors()) from e


def invalid_request(errors: Sequence[Any]) -> ApiError:
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return ApiError(400, "the request body is not valid JSON", None, "invalid_json")
    param = field_path(first.get("loc", ()))
    what = first.get("msg", "invalid request")
    message = f"{param}: {what}" if param else f"invalid request body: {what}"
    return ApiError(400, message, param, "invalid_request")


def start_answer(body: ChatRequest, settings: Settings) -> JSONResponse | StreamingResponse:
    """The reply: the whole answer, or its stream once the question is known to be good."""
    if body.model != MODEL:
        message = f"model {body.model!r} does not exist; use {MODEL!r}"
        raise ApiError(404, message, "model", "model_not_found")
    question, history = conversation(body.messages)
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    answers = stream_answer(question, history, sources=body.sources, settings=settings)
    try:
        first = next(answers)  # a bad question fails here, before anything is sent
    except Exception as e:
        raise to_api_error(e) from e
    if body.stream:
        stream = events(chain([first], answers), cid, created)
        return StreamingResponse(stream, media_type="text/event-stream")
    *_, final = chain([first], answers)
    return JSONResponse(completion(final, cid, created))


def make_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/models")
    def models() -> dict[str, Any]:
        model = {"id": MODEL, "object": "model", "created": 0, "owned_by": "sourcebook"}
        return {"object": "list", "data": [model]}

    @router.post("/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        body = await read_request(request, int(settings.max_request_mb * 1e6))
        # Answering is CPU work: a worker thread, so the server keeps serving meanwhile.
        return await run_in_threadpool(start_answer, body, settings)

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(request: Request, path: str) -> None:
        # Without this, the Gradio app mounted at / would answer unknown /v1 paths.
        raise ApiError(
            404, f"no such endpoint: {request.method} {request.url.path}", None, "unknown_url"
        )

    return router


def field_path(loc: Sequence[int | str]) -> str | None:
    """A validation error's location as OpenAI writes it: messages[0].role."""
    path = ""
    for part in loc:
        if part != "body" or path:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or None


def install(app: FastAPI, settings: Settings) -> None:
    """Add the API to `app`, with every refusal in OpenAI's error shape (never a traceback)."""
    app.include_router(make_router(settings))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, e: ApiError) -> JSONResponse:
        return JSONResponse(e.body(), status_code=e.status)

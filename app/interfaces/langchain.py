"""Sourcebook as LangChain parts: a retriever over its hybrid search and a runnable that answers.

retriever = app.as_retriever(k=4)             # a BaseRetriever: str -> list[Document]
ask = app.as_runnable()                       # a Runnable: {"question", "history"} -> Answer
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import run_in_executor
from pydantic import Field

from app.answering.followup import Turn
from app.answering.pipeline import stream_answer
from app.answering.serialize import passages_json
from app.answering.types import Answer, AnswerError
from app.library import find
from app.settings import Settings
from store import Hit

Question = Mapping[str, Any] | str  # {"question": str, "history": [{"role", "content"}, ...]}


def to_document(hit: Hit) -> Document:
    """A passage as a LangChain Document; `metadata` is the passage as every interface gives it
    (`passages_json`) but its text, and says exactly where it lies in its document
    (`document_text(source)[start:end] == page_content`; page, slide, sheet and rows, heading)."""
    (metadata,) = passages_json([hit])
    return Document(id=hit.chunk_id, page_content=metadata.pop("text"), metadata=metadata)


class SourcebookRetriever(BaseRetriever):
    """The `k` best passages for a query by Sourcebook's hybrid search (dense and BM25, fused)."""

    k: int = Field(default=5, ge=1, le=100, description="How many passages to return.")
    sources: list[str] | None = Field(default=None, description="Only these documents.")
    settings: Settings | None = Field(default=None, description="Default: from the environment.")

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = find(query, k=self.k, sources=self.sources, settings=self.settings)
        return [to_document(h) for h in hits]


def read_question(value: Question) -> tuple[str, list[Turn]]:
    """(question, history) from a runnable's input: a string, or a mapping with "question" and
    optionally "history"."""
    if isinstance(value, str):
        return value, []
    if not isinstance(value, Mapping) or not isinstance(value.get("question"), str):
        raise AnswerError(
            'the input must be a question string or {"question": str, "history": [...]}'
        )
    history = value.get("history") or []
    if not isinstance(history, list) or not all(
        isinstance(t, Mapping) and {"role", "content"} <= t.keys() for t in history
    ):
        raise AnswerError('"history" must be a list of {"role": ..., "content": ...} turns')
    return value["question"], [{"role": t["role"], "content": t["content"]} for t in history]


class SourcebookRunnable(Runnable[Question, Answer]):
    """Answers a question from the documents: `invoke` gives the final `Answer`; `stream` yields
    the growing answers (`done` on the last), as `stream_answer` does."""

    def __init__(
        self, *, sources: list[str] | None = None, settings: Settings | None = None
    ) -> None:
        self.sources = sources
        self.settings = settings

    def _answers(self, inputs: Iterator[Question]) -> Iterator[Answer]:
        received = list(inputs)  # a streamed input is complete once it stops
        question, history = read_question(received[-1] if received else "")
        yield from stream_answer(question, history, sources=self.sources, settings=self.settings)

    def transform(
        self, input: Iterator[Question], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Answer]:
        yield from self._transform_stream_with_config(input, self._answers, config)

    def stream(
        self, input: Question, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Answer]:
        yield from self.transform(iter([input]), config)

    def invoke(
        self, input: Question, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Answer:
        *_, final = self.stream(input, config)  # stream_answer yields a final answer or raises
        return final

    async def astream(
        self, input: Question, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Answer]:
        """The growing answers, each computed in a worker thread (answering is CPU work)."""
        answers = self.stream(input, config)
        done = object()
        while (item := await run_in_executor(config, next, answers, done)) is not done:
            assert isinstance(item, Answer)
            yield item


def as_retriever(**options: Any) -> SourcebookRetriever:
    """A LangChain retriever over the index: options `k` (5), `sources`, `settings`, and
    BaseRetriever's own (`tags`, `metadata`)."""
    return SourcebookRetriever(**options)


def as_runnable(
    *, sources: list[str] | None = None, settings: Settings | None = None
) -> SourcebookRunnable:
    """A LangChain runnable that answers {"question", "history"} (or a plain question) with an
    `Answer`, citations included."""
    return SourcebookRunnable(sources=sources, settings=settings)

"""`answer()`: a question in, an answer out, every claim cited to an exact quote.

One path for every answerer: check the question, make a follow-up stand alone (once), search
with that question, then answer it from what was found."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.answering.extractive import extractive_answer
from app.answering.followup import Turn, standalone_question
from app.answering.reader import shipped
from app.answering.types import Answer, AnswerError, Citation
from app.library import get_index, place_of_span
from app.settings import Settings, get_settings
from store import Index, search

if TYPE_CHECKING:  # language-model clients load only when one is configured (a faster `ask`)
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)


def check_question(question: str, settings: Settings) -> str:
    """The question with its white space folded; an error if it cannot be asked."""
    question = re.sub(r"\s+", " ", question or "").strip()
    if not question:
        raise AnswerError("the question is empty; type a question about the documents")
    if len(question) > settings.max_question_chars:
        raise AnswerError(
            f"the question is {len(question)} characters long; the limit is "
            f"{settings.max_question_chars} (SOURCEBOOK_MAX_QUESTION_CHARS)"
        )
    return question


def rewrite(question: str, history: Sequence[Turn] | None, chat: BaseChatModel | None) -> str:
    """The question made to stand alone: by the language model when there is one, else by rule."""
    by_rule = standalone_question(question, history)
    if chat is None:
        return by_rule
    from app.answering.generative import condense

    return condense(chat, question, history, fallback=by_rule)


def answer_with(
    question: str,
    history: Sequence[Turn] | None,
    *,
    sources: list[str] | None,
    settings: Settings,
    chat: BaseChatModel | None,
) -> Iterator[Answer]:
    """Answers as they grow, from `chat` (a language model) or, when None, extractively."""
    question = check_question(question, settings)
    index: Index = get_index(settings)
    standalone = rewrite(question, history, chat)
    hits = search(index, standalone, k=settings.top_k, sources=sources or None)
    base = Answer(
        question=question,
        text="",
        answered=False,
        retrieved=hits,
        standalone_question=standalone,
        answerer=settings.llm if chat is not None else "extractive",
    )
    sections: dict[str, list[dict[str, Any]]] = {}
    reader = shipped(settings.cache_dir.expanduser())
    if chat is None:
        text, citations, answered = extractive_answer(index, standalone, hits, reader)
        citations = placed(index, citations, sections)
        yield replace(base, text=text, citations=citations, answered=answered)
        return
    from app.answering.generative import generate_answer

    for partial in generate_answer(base, index, chat, reader):
        yield replace(partial, citations=placed(index, partial.citations, sections))


def placed(
    index: Index, citations: list[Citation], sections: dict[str, list[dict[str, Any]]]
) -> list[Citation]:
    """Citations named by where their quote lies: the page, slide, row or heading it starts in
    (a passage's own are where the passage starts, which a quote further in may have left).
    `sections` caches each source's sections across the partial answers of a stream."""
    for source in {c.source for c in citations} - sections.keys():
        sections[source] = index.sections(source)
    return [replace(c, **place_of_span(sections[c.source], c.start, c.end)) for c in citations]


def stream_answer(
    question: str,
    history: Sequence[Turn] | None = None,
    *,
    sources: list[str] | None = None,
    settings: Settings | None = None,
) -> Iterator[Answer]:
    """Answers as they grow; the last one yielded is complete (`done`)."""
    settings = settings or get_settings()
    chat = None
    if settings.llm != "extractive":
        from app.answering.llm import chat_model

        chat = chat_model(settings)
    yield from answer_with(question, history, sources=sources, settings=settings, chat=chat)


def answer(
    question: str,
    history: Sequence[Turn] | None = None,
    *,
    sources: list[str] | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer `question` from the indexed documents, citing each claim.

    `history` is the conversation so far, oldest first, as {"role", "content"} dicts.
    """
    *_, final = stream_answer(question, history, sources=sources, settings=settings)
    return final

"""`answer()`: a question in, an answer out, every claim cited to an exact quote."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from app.extractive import Candidate, Tuning, candidates, choose
from app.followup import Turn, standalone_question
from app.library import get_index
from app.settings import Settings, get_settings
from store import Hit, Index, search

log = logging.getLogger(__name__)

REFUSAL = "The documents don't say. None of the passages found answers this question."


class AnswerError(ValueError):
    """A question that cannot be asked as it is (empty, too long); the message says why."""


@dataclass(frozen=True)
class Citation:
    """A verbatim quote backing a claim: `document_text[start:end] == quote`."""

    n: int
    source: str
    quote: str
    start: int
    end: int
    score: float
    title: str = ""
    page: int | None = None
    heading: str | None = None


@dataclass(frozen=True)
class Answer:
    """What `answer()` returns; the CLI prints it as JSON and the UI renders it."""

    question: str
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Hit] = field(default_factory=list)
    standalone_question: str = ""
    answerer: str = "extractive"
    note: str = ""  # e.g. why a language model's answer was replaced
    done: bool = True  # False on the partial answers a stream yields before the last


def check_question(question: str, settings: Settings) -> str:
    question = re.sub(r"\s+", " ", question or "").strip()
    if not question:
        raise AnswerError("the question is empty; type a question about the documents")
    if len(question) > settings.max_question_chars:
        raise AnswerError(
            f"the question is {len(question)} characters long; the limit is "
            f"{settings.max_question_chars} (SOURCEBOOK_MAX_QUESTION_CHARS)"
        )
    return question


def citation_of(n: int, cand: Candidate) -> Citation:
    hit = cand.hit
    return Citation(
        n=n,
        source=hit.source,
        quote=cand.text,
        start=cand.start,
        end=cand.end,
        score=round(cand.score, 4),
        title=hit.title,
        page=hit.page,
        heading=hit.heading,
    )


def compose(chosen: list[Candidate]) -> tuple[str, list[Citation]]:
    """The answer text, each sentence followed by its citation marker."""
    citations = [citation_of(n, c) for n, c in enumerate(chosen, start=1)]
    parts = []
    for cite in citations:
        sentence = re.sub(r"\s+", " ", cite.quote).strip()
        sentence = re.sub(r"^(\d{1,3}|[ivxIVX]{1,4}|[•·\-*o])[.)]?\s+(?=\w)", "", sentence)
        parts.append(f"{sentence} [{cite.n}]")
    return " ".join(parts), citations


def extractive_answer(
    index: Index, standalone: str, hits: list[Hit], tuning: Tuning
) -> tuple[str, list[Citation], bool]:
    chosen = choose(candidates(index, standalone, hits, tuning), tuning)
    if not chosen:
        return REFUSAL, [], False
    text, citations = compose(chosen)
    return text, citations, True


def stream_answer(
    question: str,
    history: Sequence[Turn] | None = None,
    *,
    sources: list[str] | None = None,
    settings: Settings | None = None,
) -> Iterator[Answer]:
    """Answers as they grow; the last one yielded is complete (`done`)."""
    settings = settings or get_settings()
    question = check_question(question, settings)
    index = get_index(settings)
    standalone = standalone_question(question, history)
    hits = search(index, standalone, k=settings.top_k, sources=sources or None)
    base = Answer(question, "", False, [], hits, standalone, settings.llm)
    if settings.llm == "extractive":
        text, citations, answered = extractive_answer(index, standalone, hits, Tuning())
        yield replace(base, text=text, citations=citations, answered=answered)
        return
    from app.generate import generate_answer

    yield from generate_answer(base, index, settings, history)


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

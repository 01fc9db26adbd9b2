"""Answers written by a language model, each sentence checked against the passage it cites
before anyone sees it; the extractive answer stands in when nothing checked survives."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from app.answering.extractive import extractive_answer
from app.answering.followup import Turn, needs_context
from app.answering.llm import LLMError
from app.answering.reader import Reader
from app.answering.support import (
    SupportBar,
    SupportChecker,
    cited_numbers,
    complete_sentences,
    strip_markers,
)
from app.answering.types import REFUSAL, Answer, Citation
from prompts import render
from store import Hit, Index

log = logging.getLogger(__name__)

REFUSAL_REPLY = "NOT IN THE DOCUMENTS"  # what the prompt asks for when the passages don't answer
REFUSED = re.compile(
    r"not in the documents|\b(?:no|not enough) information\b|\bcannot (?:answer|find|determine)\b"
    r"|\b(?:passages?|documents?|context|sources?|texts?)\b[^.]*\b(?:not|n't|no)\b[^.]*"
    r"\b(?:say|state|contain|mention|provide|include|answer|specify)",
    re.IGNORECASE,
)
MAX_HISTORY_TURNS = 6


@dataclass
class Draft:
    """The checked sentences so far and the citations they carry, numbered as they appear."""

    checker: SupportChecker
    bar: SupportBar
    sentences: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    dropped: int = 0

    def add(self, sentence: str) -> bool:
        """Keep `sentence` if a passage it cites supports it (citing only those); else drop it."""
        claim = strip_markers(sentence)
        found = [self.checker.support(claim, n) for n in cited_numbers(sentence)]
        backing = [s for s in found if s is not None and s.passes(self.bar)]
        if not backing:
            self.dropped += 1
            why = [(s.missing, round(s.similarity, 2)) if s else None for s in found]
            log.info("dropped unsupported sentence %r (missing, similarity: %s)", sentence, why)
            return False
        numbers = []
        for s in backing:
            cite = next(
                (c for c in self.citations if (c.source, c.start) == (s.hit.source, s.start)), None
            )
            if cite is None:
                cite = Citation.of(len(self.citations) + 1, s.hit, s.start, s.end, s.similarity)
                self.citations.append(cite)
            numbers.append(cite.n)
        marks = "".join(f" [{n}]" for n in dict.fromkeys(numbers))
        self.sentences.append(claim + marks)
        return True

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def generate_answer(
    base: Answer,
    index: Index,
    chat: BaseChatModel,
    reader: Reader,
    *,
    bar: SupportBar | None = None,
) -> Iterator[Answer]:
    """Stream the model's answer to `base.standalone_question`, one checked sentence at a time."""
    if not base.retrieved:
        yield replace(
            base, text=REFUSAL, note="nothing relevant was found; no language model was asked"
        )
        return
    draft = Draft(SupportChecker(base.retrieved, index.embeddings), bar or SupportBar())
    refused, error = False, ""
    try:
        messages = answer_messages(base.standalone_question, base.retrieved)
        for sentence in model_sentences(chat, messages):
            if not draft.sentences and REFUSED.search(sentence):
                refused = True
                break
            if draft.add(sentence):
                yield replace(
                    base,
                    text=draft.text,
                    citations=list(draft.citations),
                    answered=True,
                    done=False,
                )
    except LLMError as e:
        error = str(e)
    yield final_answer(base, index, reader, draft, refused, error)


def final_answer(
    base: Answer, index: Index, reader: Reader, draft: Draft, refused: bool, error: str
) -> Answer:
    dropped = f"{draft.dropped} unsupported sentence(s) of the model's answer were dropped"
    if draft.sentences:
        note = "; ".join(p for p in (dropped if draft.dropped else "", error) if p)
        return replace(
            base, text=draft.text, citations=list(draft.citations), answered=True, note=note
        )
    if refused:
        return replace(
            base, text=REFUSAL, note="the language model found no answer in the passages"
        )
    why = error or f"none of the model's sentences was supported by a passage it cites ({dropped})"
    text, citations, answered = extractive_answer(
        index, base.standalone_question, base.retrieved, reader
    )
    return replace(
        base,
        text=text,
        citations=citations,
        answered=answered,
        answerer="extractive",
        note=f"extractive answer instead: {why}",
    )


def answer_messages(question: str, hits: list[Hit]) -> list[BaseMessage]:
    passages = "\n\n".join(quote_passage(n, hit) for n, hit in enumerate(hits, start=1))
    return [
        SystemMessage(render("answer_system", refusal=REFUSAL_REPLY)),
        HumanMessage(
            render("answer_user", passages=passages, question=question, refusal=REFUSAL_REPLY)
        ),
    ]


def quote_passage(n: int, hit: Hit) -> str:
    """A passage as delimited data; a closing tag inside the document cannot end it early."""
    body = re.sub(r"</?\s*passage", lambda m: m.group(0).replace("<", "&lt;"), hit.text, flags=re.I)
    title = (hit.title or hit.source).replace('"', "'")
    return f'<passage n="{n}" source="{title}">\n{body.strip()}\n</passage>'


def model_sentences(chat: BaseChatModel, messages: list[BaseMessage]) -> Iterator[str]:
    """The model's reply, streamed, cut into complete sentences as they arrive."""
    buffer = ""
    try:
        for chunk in chat.stream(messages):
            buffer += chunk.text if isinstance(chunk.text, str) else str(chunk.content)
            ready, buffer = complete_sentences(buffer)
            yield from ready
    except Exception as e:  # any backend's failure (connection, timeout, model) ends the stream
        log.warning("language model failed: %s", e, exc_info=True)
        raise LLMError(f"the language model failed: {type(e).__name__}: {e}") from e
    yield from complete_sentences(buffer, final=True)[0]


def condense(
    chat: BaseChatModel, question: str, history: Sequence[Turn] | None, fallback: str
) -> str:
    """The follow-up `question` rewritten by the model to stand alone; `fallback` (the rule-based
    rewrite) when there is no earlier turn, it needs none, or the model's rewrite is unusable."""
    turns = [t for t in (history or []) if str(t.get("content", "")).strip()][-MAX_HISTORY_TURNS:]
    if not any(t.get("role") == "user" for t in turns) or not needs_context(question):
        return fallback
    lines = "\n".join(
        f"{t.get('role', 'user')}: {' '.join(str(t['content']).split())}" for t in turns
    )
    prompt = render("condense", history=lines, question=question)
    try:
        reply = chat.invoke([HumanMessage(prompt)]).text
    except Exception as e:  # the answer call will meet (and report) the same failure
        log.warning("rewriting the follow-up failed: %s", e)
        return fallback
    rewritten = " ".join(str(reply).strip().splitlines()[:1]).strip().strip('"')
    if not rewritten or len(rewritten) > 3 * len(fallback) + 100:
        return fallback
    log.info("follow-up %r rewritten as %r", question, rewritten)
    return rewritten

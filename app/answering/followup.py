"""Turn a follow-up question into one that stands alone, from the conversation so far."""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.answering.text import WH_WORDS, content_terms
from store.words import STOPWORDS, words

Turn = dict[str, str]  # {"role": "user" | "assistant", "content": str}

ANAPHORA = frozenset(
    "there it its they them their theirs this that these those he she him her his then same "
    "former latter".split()
)
OPENERS = ("and ", "what about", "how about", "also ", "then ", "so ")
AUXILIARIES = frozenset("is are was were do does did has have had will would can could".split())


def needs_context(question: str) -> bool:
    """A question that leans on an earlier one: a pronoun, an opener like 'And ...', or too few
    words of its own to search with."""
    lowered = question.strip().lower()
    tokens = [w.lower() for w in words(question)]
    return (
        any(t in ANAPHORA for t in tokens)
        or lowered.startswith(OPENERS)
        or len(content_terms(question)) <= 1
    )


PREPOSITIONS = frozenset("in at on for from by with to of during".split())
ASKS_FOR = frozenset("which what whose".split())


def topic_of(question: str) -> str:
    """What a question is about: its words without the leading question word and auxiliary, and
    without what it asked for ("In which city did the 14th forum take place?" is about "the 14th
    forum take place": the city was the answer, not the topic)."""
    tokens = question.strip().rstrip("?").split()
    if len(tokens) > 1 and tokens[0].lower() in PREPOSITIONS and tokens[1].lower() in WH_WORDS:
        tokens = tokens[1:]
    if len(tokens) > 2 and tokens[0].lower() in ASKS_FOR and tokens[1].lower() not in AUXILIARIES:
        tokens = tokens[2:]
    while tokens and (tokens[0].lower() in WH_WORDS or tokens[0].lower() in AUXILIARIES):
        tokens = tokens[1:]
    while tokens and tokens[-1].lower() in STOPWORDS:
        tokens = tokens[:-1]
    return " ".join(tokens)


def standalone_question(question: str, history: Sequence[Turn] | None) -> str:
    """`question` made self-contained using the earlier user turns (themselves made so first)."""
    previous: str | None = None
    for turn in history or []:
        if turn.get("role") == "user" and str(turn.get("content", "")).strip():
            previous = _rewrite(str(turn["content"]), previous)
    return _rewrite(question, previous)


def _rewrite(question: str, previous: str | None) -> str:
    question = re.sub(r"\s+", " ", question).strip()
    if not previous or not needs_context(question):
        return question
    topic = topic_of(previous)
    if not topic or topic.lower() in question.lower():
        return question
    return f"{question.rstrip('?').rstrip()} (regarding: {topic})?"

"""Answers as plain text and JSON for the interfaces that are not HTML (OpenAI API, MCP): the
answer with a readable sources list under it, and citations as data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from app.answering.followup import Turn
from app.answering.types import Answer, Citation
from store import Hit

SOURCES = "Sources:"
CLOSEST = "Closest passages (not an answer):"
_SNIPPET = 240


def squash(text: str) -> str:
    return " ".join(text.split())


def where(item: Citation | Hit) -> str:
    """Where in its document a passage is: the page or heading, then the file."""
    place = f"p. {item.page}" if item.page else (f"§ {item.heading}" if item.heading else "")
    stem = item.source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    named = item.title if item.title and item.title != stem else ""
    return ", ".join(p for p in (named, item.source, place) if p)


def citation_line(c: Citation) -> str:
    return f'[{c.n}] {where(c)}, characters {c.start}-{c.end}: "{squash(c.quote)}"'


def closest_line(hit: Hit) -> str:
    snippet = squash(hit.text)
    snippet = snippet if len(snippet) <= _SNIPPET else snippet[:_SNIPPET] + "…"
    return f"- {where(hit)}, characters {hit.start}-{hit.end}: {snippet}"


def sources_block(answer: Answer, closest: int = 3) -> str:
    """The readable list that follows an answer: its sources, or for a refusal the closest
    passages marked as not an answer; empty when there is neither."""
    if answer.citations:
        return "\n\n" + "\n".join([SOURCES, *(citation_line(c) for c in answer.citations)])
    if not answer.answered and answer.retrieved:
        hits = answer.retrieved[:closest]
        return "\n\n" + "\n".join([CLOSEST, *(closest_line(h) for h in hits)])
    return ""


def full_text(answer: Answer) -> str:
    """The answer with its [n] markers, a note if there is one, then the sources list."""
    note = f"\n\n({answer.note})" if answer.note else ""
    return answer.text + note + sources_block(answer)


def answer_only(text: str) -> str:
    """An earlier reply as this module wrote it, without the sources list under it (a client
    sends the whole reply back as history)."""
    for marker in (f"\n\n{SOURCES}\n", f"\n\n{CLOSEST}\n"):
        text = text.split(marker, 1)[0]
    return text


def history_turns(turns: Sequence[Turn]) -> list[Turn]:
    return [
        {"role": t["role"], "content": answer_only(t["content"])} if t["role"] == "assistant" else t
        for t in turns
    ]


def citations_data(answer: Answer) -> list[dict[str, Any]]:
    return [asdict(c) for c in answer.citations]


def hit_data(hit: Hit) -> dict[str, Any]:
    data = asdict(hit)
    data.pop("doc_hash", None)
    return data


def answer_data(answer: Answer, closest: int = 3) -> dict[str, Any]:
    """The answer as JSON data: text, whether it answers, citations, and for a refusal the
    closest passages."""
    return {
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "answered": answer.answered,
        "citations": citations_data(answer),
        "closest": [] if answer.answered else [hit_data(h) for h in answer.retrieved[:closest]],
        "answerer": answer.answerer,
        "note": answer.note,
    }


def answer_meta(answer: Answer, closest: int = 3) -> dict[str, Any]:
    """What `answer_data` holds beyond the text and the citations (for an API that carries
    those in fields of their own)."""
    data = answer_data(answer, closest)
    return {k: v for k, v in data.items() if k not in ("question", "answer", "citations")}

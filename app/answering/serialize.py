"""The one serialised shape of an `Answer`, as JSON and as text, that every interface passes on.

`answer_json` is the JSON of the library, `sourcebook ask --json`, Gradio's `/ask`, `/v1` (its
`citations` and `sourcebook` fields together) and MCP's `ask`; `answer_text` is the readable
text of `/v1`, MCP and the CLI. A citation and a passage are their dataclasses' fields, nothing
renamed, as pydantic serialises them (`AnswerData`); a passage leaves out `doc_hash`, which says
which version of a file the index holds, not where the passage is. `where` names the place of a
quote or passage (page, slide, sheet and rows, heading) for every interface, HTML included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from app.answering.followup import Turn
from app.answering.types import Answer, Citation
from store import Hit

CLOSEST = 3  # passages shown beside a refusal
SOURCES = "Sources:"
NOT_AN_ANSWER = "Closest passages (not an answer)"
SNIPPET = 240  # characters of a closest passage in text
HIDDEN = {"doc_hash"}
Name = Callable[[str], str]  # how a file name is shown (the CLI escapes control characters)


class AnswerData(BaseModel):
    """An answer as every interface gives it: what was asked and searched (a follow-up made to
    stand alone), the answer text with its [n] markers, whether it answers, the citations, and
    for a refusal the closest passages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str
    standalone_question: str
    answer: str
    answered: bool
    citations: list[Citation]
    closest: list[Hit]
    answerer: str
    note: str

    @classmethod
    def of(cls, answer: Answer, closest: int = CLOSEST) -> AnswerData:
        return cls(
            question=answer.question,
            standalone_question=answer.standalone_question,
            answer=answer.text,
            answered=answer.answered,
            citations=answer.citations,
            closest=[] if answer.answered else answer.retrieved[:closest],
            answerer=answer.answerer,
            note=answer.note,
        )


_PASSAGES = TypeAdapter(list[Hit])


def answer_json(answer: Answer, closest: int = CLOSEST) -> dict[str, Any]:
    """The answer as JSON data (`AnswerData`), the same through every interface."""
    data = AnswerData.of(answer, closest)
    return data.model_dump(mode="json", exclude={"closest": {"__all__": HIDDEN}})


def passages_json(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """Retrieved passages as JSON data, as a refusal's closest passages are given."""
    return list(_PASSAGES.dump_python(list(hits), mode="json", exclude={"__all__": HIDDEN}))


def rows_place(sheet: str | None, first: int, last: int) -> str:
    """Rows as a person names them: "sheet Budget, rows 4–6", "row 12"."""
    shown = f"row {first}" if last == first else f"rows {first}–{last}"
    return f"sheet {sheet}, {shown}" if sheet else shown


def where(place: Citation | Hit) -> str:
    """Where a passage or quote lies, as a person looks for it: "sheet Budget, row 12",
    "rows 4–6", "slide 3 · Results", "p. 7", "§ Findings"; "" for plain text."""
    if place.row is not None:
        return rows_place(
            place.sheet, place.row, place.row if place.row_end is None else place.row_end
        )
    if place.slide:
        return f"slide {place.slide}" + (f" · {place.heading}" if place.heading else "")
    if place.page:
        return f"p. {place.page}"
    return f"§ {place.heading}" if place.heading else ""


def naming(source: str, title: str) -> tuple[str, str]:
    """(what to call a document, its file if that says more): the title, unless it only repeats
    the file name."""
    stem = source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return (title, source) if title and title != stem else (source, "")


def located(item: Citation | Hit, name: Name = str) -> str:
    """A document and the place in it, then the characters: "Budget 2026, budget.xlsx, sheet
    Budget, rows 4–6, characters 120-180"."""
    called, file = naming(item.source, item.title)
    parts = [name(called), name(file), where(item), f"characters {item.start}-{item.end}"]
    return ", ".join(p for p in parts if p)


def squash(text: str) -> str:
    return " ".join(text.split())


def sources_text(answer: Answer, closest: int = CLOSEST, name: Name = str) -> str:
    """The readable list that follows an answer: its sources, or for a refusal the closest
    passages marked as not an answer; "" when there is neither."""
    data = AnswerData.of(answer, closest)
    if data.citations:
        lines = [f'[{c.n}] {located(c, name)}: "{squash(c.quote)}"' for c in data.citations]
        return "\n\n" + "\n".join([SOURCES, *lines])
    if data.closest:
        lines = [f"- {located(h, name)}: {snippet(h.text)}" for h in data.closest]
        return "\n\n" + "\n".join([f"{NOT_AN_ANSWER}:", *lines])
    return ""


def snippet(text: str, limit: int = SNIPPET) -> str:
    text = squash(text)
    return text if len(text) <= limit else text[:limit] + "…"


def answer_text(answer: Answer, closest: int = CLOSEST, name: Name = str) -> str:
    """The answer as text: its [n] markers, a note if there is one, then the sources list."""
    note = f"\n\n({answer.note})" if answer.note else ""
    return answer.text + note + sources_text(answer, closest, name)


def earlier_reply(text: str) -> str:
    """An earlier reply as `answer_text` wrote it, without the sources list under it (a client
    sends the whole reply back as history)."""
    for marker in (f"\n\n{SOURCES}\n", f"\n\n{NOT_AN_ANSWER}:\n"):
        text = text.split(marker, 1)[0]
    return text


def history_turns(turns: Sequence[Turn]) -> list[Turn]:
    """A conversation a client sent back, each earlier reply without its sources list."""
    return [
        {"role": "assistant", "content": earlier_reply(t["content"])}
        if t["role"] == "assistant"
        else t
        for t in turns
    ]

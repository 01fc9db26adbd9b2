"""The one serialisation of an answer: its text names every kind of place (sheet and rows, slide,
page, heading), its JSON is the dataclasses' fields, and a reply sent back reads as its answer."""

from __future__ import annotations

from dataclasses import fields

from app.answering.serialize import answer_json, answer_text, history_turns, where
from app.answering.types import Answer, Citation
from store import Hit

QUOTE = "Reservoir levels rose by 4 percent."


def cite(n: int, **place: object) -> Citation:
    return Citation(n=n, source="b.xlsx", quote=QUOTE, start=10 * n, end=10 * n + 35, score=0.5,
                    **place)  # type: ignore[arg-type]  # fmt: skip


def hit(**place: object) -> Hit:
    return Hit(chunk_id="c1", source="deck.pptx", text=QUOTE, start=0, end=35, score=0.1,
               similarity=0.2, doc_hash="abc", **place)  # type: ignore[arg-type]  # fmt: skip


def test_every_kind_of_place_is_named() -> None:
    assert where(cite(1, sheet="Budget", row=4, row_end=6)) == "sheet Budget, rows 4–6"
    assert where(cite(1, row=12, row_end=12)) == "row 12"
    assert where(cite(1, slide=3, heading="Results")) == "slide 3 · Results"
    assert where(cite(1, page=7)) == "p. 7"
    assert where(cite(1, heading="Findings")) == "§ Findings"
    assert where(cite(1)) == ""


def test_the_text_names_sheet_rows_and_slides_of_citations_and_closest_passages() -> None:
    """Regression (issue 20): the OpenAI API's and MCP's text named only pages and headings."""
    cited = [cite(1, sheet="Budget", row=4, row_end=6, title="Budget 2026"), cite(2, slide=3)]
    text = answer_text(Answer("Q?", "It rose [1]. Slides say so [2].", True, cited))
    assert '[1] Budget 2026, b.xlsx, sheet Budget, rows 4–6, characters 10-45: "Reservoir' in text
    assert "[2] b.xlsx, slide 3, characters 20-55:" in text
    refused = answer_text(Answer("Q?", "No.", False, retrieved=[hit(slide=2, heading="Dams")]))
    assert (
        "Closest passages (not an answer):\n- deck.pptx, slide 2 · Dams, characters 0-35" in refused
    )


def test_the_json_is_the_fields_of_the_dataclasses_without_doc_hash() -> None:
    code = cite(1, answer_start=12, answer_end=20, code=True)
    data = answer_json(Answer("Q?", "A [1].", True, [code], [hit()], standalone_question="Q?"))
    assert set(data["citations"][0]) == {f.name for f in fields(Citation)}
    new = {k: data["citations"][0][k] for k in ("answer_start", "answer_end", "code")}
    assert new == {"answer_start": 12, "answer_end": 20, "code": True}
    assert data["closest"] == [] and data["answer"] == "A [1]."  # answered: no closest passages
    refused = answer_json(Answer("Q?", "No.", False, retrieved=[hit()] * 5))
    assert len(refused["closest"]) == 3
    assert set(refused["closest"][0]) == {f.name for f in fields(Hit)} - {"doc_hash"}


def test_a_reply_sent_back_as_history_is_read_without_its_sources() -> None:
    reply = answer_text(Answer("Q?", "It rose [1].", True, [cite(1, page=2)]))
    refusal = answer_text(Answer("Q?", "No.", False, retrieved=[hit()]))
    turns = history_turns(
        [
            {"role": "user", "content": "Q?\n\nSources:\nnot ours"},
            {"role": "assistant", "content": reply},
            {"role": "assistant", "content": refusal},
        ]
    )
    assert [t["content"] for t in turns] == ["Q?\n\nSources:\nnot ours", "It rose [1].", "No."]

"""The chat window's answer: the words that answer in bold, a code quote as code, all escaped."""

from __future__ import annotations

from app.answering.types import Answer, Citation
from app.interfaces.render import answer_html

SENTENCE = "The 14th forum took place in Dushanbe on November 30."


def cite(
    n: int, quote: str, start: int, answer: tuple[int, int] | None, code: bool = False
) -> Citation:
    return Citation(
        n=n,
        source="forum.txt",
        quote=quote,
        start=start,
        end=start + len(quote),
        score=0.9,
        answer_start=answer[0] if answer else None,
        answer_end=answer[1] if answer else None,
        code=code,
    )


def test_the_words_that_answer_are_bold_in_the_answer_and_in_its_quote() -> None:
    at = 100 + SENTENCE.index("Dushanbe")
    c = cite(1, SENTENCE, 100, (at, at + len("Dushanbe")))
    html = answer_html(Answer("Where?", f"{SENTENCE} [1]", True, [c]))
    assert html.count('<strong class="sb-short">Dushanbe</strong>') == 2


def test_without_a_short_answer_nothing_is_bold() -> None:
    html = answer_html(Answer("Where?", f"{SENTENCE} [1]", True, [cite(1, SENTENCE, 0, None)]))
    assert "<strong" not in html


def test_a_code_quote_keeps_its_lines_and_its_text_stays_inert() -> None:
    code = "python3 -m venv env\n<script>alert(1)</script>"
    lead = "Run the venv module with the directory path:"
    text = f"{lead} [1]\n{code}\n[2]"
    html = answer_html(
        Answer("How?", text, True, [cite(1, lead, 0, None), cite(2, code, 60, None, True)])
    )
    assert 'class="sb-quote sb-code"' in html
    assert "python3 -m venv env\n&#60;script&#62;" in html
    assert "<script>" not in html

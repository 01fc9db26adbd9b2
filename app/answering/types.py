"""What answering returns: `Answer` and its `Citation`s, frozen data that the CLI prints as JSON,
the UI renders and tests compare; and the one error a question can raise."""

from __future__ import annotations

from dataclasses import dataclass, field

from store import Hit, SourcebookError

REFUSAL = "The documents don't say. None of the passages found answers this question."


class AnswerError(SourcebookError):
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
    slide: int | None = None
    sheet: str | None = None
    row: int | None = (
        None  # a spreadsheet's or CSV's row the quote starts in, as the file numbers it
    )
    row_end: int | None = None  # ... and the row it ends in
    # The words of the quote that answer the question (the place, the date, the name), as
    # offsets into the document like start and end; None when the reader is not sure of them.
    answer_start: int | None = None
    answer_end: int | None = None
    code: bool = False  # the quote is a code block, quoted whole (keep its lines as they are)

    @classmethod
    def of(
        cls,
        n: int,
        hit: Hit,
        start: int,
        end: int,
        score: float,
        answer: tuple[int, int] | None = None,
        code: bool = False,
    ) -> Citation:
        """Citation `n` of the document span [start:end] inside `hit`'s passage. The quote is cut
        from the passage itself, so it is verbatim by construction."""
        if not hit.start <= start < end <= hit.end:
            raise ValueError(f"[{start}:{end}] is not inside {hit.source} [{hit.start}:{hit.end}]")
        if answer is not None and not start <= answer[0] < answer[1] <= end:
            answer = None
        return cls(
            n=n,
            source=hit.source,
            quote=hit.text[start - hit.start : end - hit.start],
            start=start,
            end=end,
            score=round(score, 4),
            title=hit.title,
            page=hit.page,
            heading=hit.heading,
            slide=hit.slide,
            sheet=hit.sheet,
            row=hit.row,
            row_end=hit.row_end,
            answer_start=answer[0] if answer else None,
            answer_end=answer[1] if answer else None,
            code=code,
        )


@dataclass(frozen=True)
class Answer:
    """What `answer()` returns. `standalone_question` is the question that was searched and
    answered (a follow-up made to stand alone)."""

    question: str
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Hit] = field(default_factory=list)
    standalone_question: str = ""
    answerer: str = "extractive"
    note: str = ""  # e.g. why a language model's answer was replaced
    done: bool = True  # False on the partial answers a stream yields before the last

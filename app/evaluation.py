"""`sourcebook eval`: ask every question of a question file and grade the answers.

A question file holds one JSON object a line:

    id            a short name
    question      what the user types
    history       earlier user turns of the same conversation, oldest first: each is asked
                  first, and the question is asked after them with the whole conversation
                  (the turns and the answers they got), as the chat window would
    answerable    false when the documents do not hold the answer: the right reply is a refusal
    must_include  groups of strings; every group must match the answer text (a group matches
                  when any of its strings occurs, case-insensitive, white space folded)
    gold_sources  the files (names in the gold folder) that hold the answer
    gold_passage  optional: the passage that holds the answer (then it, not gold_sources, counts)

An answerable question is correct when it is answered, every `must_include` group matches, and
at least one citation's quote is found (white space folded) in a gold source; an unanswerable
one is correct when it is refused. Citation precision is the share of citations (of answerable
questions) found in a gold source; retrieval hit@5 the share of answerable questions with a
gold passage among the top 5 retrieved; truthfulness scores +1 for a correct answer or refusal,
0 for refusing an answerable question, -1 for a wrong answer (CRAG's rule).

`SAMPLE_QUESTIONS` is such a file for the bundled corpus."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.answering.followup import Turn
from app.answering.pipeline import answer
from app.answering.types import Answer
from app.library import followed_folder
from app.settings import Settings

Ask = Callable[..., Answer]  # answer()'s signature: (question, history, settings=...)

SAMPLE_QUESTIONS = Path(__file__).resolve().parent / "sample_questions.jsonl"


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass(frozen=True)
class Graded:
    id: str
    kind: str
    answerable: bool
    answered: bool
    correct: bool
    gold_citations: int
    citations: int
    retrieval_hit: bool
    text: str


@dataclass(frozen=True)
class Report:
    questions: int
    correct: float
    answerable_correct: float
    refusal_accuracy: float | None
    citation_precision: float | None
    retrieval_hit_at_5: float | None
    truthfulness: float
    details: list[Graded] = field(default_factory=list)


def load_questions(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n} is not a JSON object ({e.msg})") from e
    return rows


def find_gold_dir(questions_file: Path, folder: Path) -> Path:
    """The folder holding the gold source files: a `corpus/` folder beside the question file,
    else `folder`, the documents folder the index follows."""
    beside = questions_file.parent / "corpus"
    return beside if beside.is_dir() else folder


class Grader:
    """Grades answers against gold files read from one folder."""

    def __init__(self, gold_dir: Path) -> None:
        self.texts: dict[str, str] = {}
        for path in sorted(gold_dir.iterdir()):
            if path.is_file():
                self.texts[path.name] = fold(path.read_text(encoding="utf-8", errors="replace"))

    def in_gold(self, snippet: str, row: dict[str, Any]) -> bool:
        if row.get("gold_passage"):
            return fold(snippet) in fold(row["gold_passage"])
        folded = fold(snippet)
        return any(folded in self.texts.get(name, "") for name in row.get("gold_sources", []))

    def hit(self, chunk: str, row: dict[str, Any]) -> bool:
        if row.get("gold_passage"):
            gold, text = fold(row["gold_passage"]), fold(chunk)
            pieces = [p for p in re.split(r"(?<=[.!?]) ", gold) if len(p) >= 30] or [gold]
            return text in gold or any(p in text for p in pieces)
        return self.in_gold(chunk, row)

    def grade(self, row: dict[str, Any], a: Answer) -> Graded:
        answerable = bool(row.get("answerable", True))
        text = fold(a.text)
        groups = row.get("must_include") or []
        includes = all(any(fold(s) in text for s in group) for group in groups)
        gold = sum(1 for c in a.citations if self.in_gold(c.quote, row))
        correct = (a.answered and includes and gold > 0) if answerable else not a.answered
        hit = any(self.hit(h.text, row) for h in a.retrieved[:5])
        return Graded(
            id=str(row.get("id", "")),
            kind=str(row.get("kind", "")),
            answerable=answerable,
            answered=a.answered,
            correct=correct,
            gold_citations=gold,
            citations=len(a.citations),
            retrieval_hit=hit,
            text=a.text,
        )


def share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def ask_in_turn(row: dict[str, Any], settings: Settings | None, ask: Ask = answer) -> Answer:
    """The answer to `row`'s question, asked after its earlier turns, each asked in turn with
    the conversation so far (user turns and the answers they got)."""
    history: list[Turn] = []
    for earlier in row.get("history", []):
        reply = ask(earlier, list(history), settings=settings)
        history += [
            {"role": "user", "content": earlier},
            {"role": "assistant", "content": reply.text},
        ]
    return ask(row["question"], history, settings=settings)


def evaluate(
    questions_file: Path,
    *,
    settings: Settings | None = None,
    gold_dir: Path | None = None,
    on_graded: Callable[[Graded], None] | None = None,
    ask: Ask = answer,
) -> Report:
    """Ask every question of `questions_file` (its earlier turns first) and grade the answers."""
    rows = load_questions(questions_file)
    grader = Grader(gold_dir or find_gold_dir(questions_file, followed_folder(settings)))
    graded = []
    for row in rows:
        a = ask_in_turn(row, settings, ask)
        g = grader.grade(row, a)
        graded.append(g)
        if on_graded:
            on_graded(g)
    answerable = [g for g in graded if g.answerable]
    unanswerable = [g for g in graded if not g.answerable]
    cited = sum(g.citations for g in answerable)
    truth = [1 if g.correct else (0 if (g.answerable and not g.answered) else -1) for g in graded]
    return Report(
        questions=len(graded),
        correct=share([g.correct for g in graded]) or 0.0,
        answerable_correct=share([g.correct for g in answerable]) or 0.0,
        refusal_accuracy=share([g.correct for g in unanswerable]),
        citation_precision=round(sum(g.gold_citations for g in answerable) / cited, 4)
        if cited
        else None,
        retrieval_hit_at_5=share([g.retrieval_hit for g in answerable]),
        truthfulness=round(sum(truth) / len(truth), 4) if truth else 0.0,
        details=graded,
    )


def as_dict(report: Report, details: bool) -> dict[str, Any]:
    out = asdict(report)
    if not details:
        out.pop("details")
    return out

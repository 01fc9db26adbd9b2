"""`sourcebook eval` asks a question as the chat window would: its earlier turns first, then the
question with the whole conversation (issue 19: only the user turns were passed, none asked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.answering.pipeline import answer
from app.answering.types import Answer
from app.evaluation import evaluate

pytestmark = pytest.mark.integration

FIRST = "In which city did the 14th forum take place?"
FOLLOW_UP = "On what date was it held?"


def test_earlier_turns_are_asked_first_and_passed_on_with_their_answers(
    corpus_settings: Any, tmp_path: Path
) -> None:
    row = {"id": "f1", "question": FOLLOW_UP, "history": [FIRST], "answerable": True,
           "must_include": [], "gold_sources": []}  # fmt: skip
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps(row) + "\n")
    asked: list[tuple[str, list[dict[str, str]], Answer]] = []

    def ask(question: str, history: list[dict[str, str]], **options: Any) -> Answer:
        reply = answer(question, history, **options)  # the real answerer, each call noted
        asked.append((question, history, reply))
        return reply

    report = evaluate(questions, settings=corpus_settings, ask=ask)
    assert report.questions == 1
    (first, no_history, earlier), (last, conversation, _) = asked
    assert (first, no_history) == (FIRST, [])
    assert last == FOLLOW_UP
    assert conversation == [
        {"role": "user", "content": FIRST},
        {"role": "assistant", "content": earlier.text},
    ]

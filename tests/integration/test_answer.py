"""`answer()` over the default corpus: cited, verbatim, refusing, following up, deterministic.

The questions are the tests' own (never those of ../shared/eval/, which checks, not trains)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app import AnswerError, answer
from app.library import document_text

pytestmark = pytest.mark.integration


def test_answer_cites_verbatim_quotes_with_exact_offsets(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    a = answer(
        "Which Kazakh agency did the deputy foreign minister hope would work with KOICA?",
        settings=corpus_settings,
    )
    assert a.answered
    assert "KazAID" in a.text
    assert a.citations and all(f"[{c.n}]" in a.text for c in a.citations)
    for c in a.citations:
        _, text = document_text(c.source, corpus_settings)
        assert text[c.start : c.end] == c.quote
    assert a.retrieved and a.retrieved[0].score >= a.retrieved[-1].score


def test_every_sentence_of_the_answer_is_a_cited_quote(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    question = "What did the Turkmen foreign minister say the relations were built on?"
    a = answer(question, settings=corpus_settings)
    assert a.answered and "Silk Road" in a.text
    folded_quotes = [" ".join(c.quote.split()) for c in a.citations]
    for part in a.text.split("] "):
        claim = part.rsplit(" [", 1)[0].strip()
        assert any(claim in q for q in folded_quotes), claim


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2014 Nobel Prize in Literature?",
        "How many people live in Tajikistan?",
        "What currency does Kyrgyzstan use?",
    ],
)
def test_refuses_when_the_documents_do_not_say(corpus_settings, question: str) -> None:  # type: ignore[no-untyped-def]
    a = answer(question, settings=corpus_settings)
    assert not a.answered
    assert a.citations == []
    assert "don't say" in a.text
    assert a.retrieved  # the closest passages are still there to show, marked as not an answer


def test_follow_up_uses_the_conversation(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    first = "In which city did the 14th forum take place?"
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": "..."}]
    a = answer("On what date was it held?", history, settings=corpus_settings)
    assert a.answered and "November 30" in a.text
    assert "14th" in a.standalone_question


def test_same_question_same_answer(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    q = "Which prime minister visited Tajikistan and Kyrgyzstan?"
    assert answer(q, settings=corpus_settings) == answer(q, settings=corpus_settings)


def test_bad_questions_are_refused_with_a_reason(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AnswerError, match="empty"):
        answer("   ", settings=corpus_settings)
    with pytest.raises(AnswerError, match="SOURCEBOOK_MAX_QUESTION_CHARS"):
        answer("why " * 1000, settings=corpus_settings)


def test_cli_ask_json(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "SOURCEBOOK_HOME": str(corpus_settings.home)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.interfaces.cli",
            "ask",
            "What is Kim Gunn's position?",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["answered"] and "Deputy Minister" in data["answer"]
    assert {"n", "source", "quote", "start", "end", "score"} <= set(data["citations"][0])


def test_questions_from_many_threads_get_the_answers_asked_one_by_one(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    """Regression (issue 9): the server answers on several threads, which shared one stemmer."""
    from concurrent.futures import ThreadPoolExecutor

    questions = [
        "Which Kazakh agency did the deputy foreign minister hope would work with KOICA?",
        "On what date was the 13th forum to be held?",
        "Which prime minister visited Tajikistan and Kyrgyzstan?",
        "What is Kim Gunn's position?",
        "Who won the 2014 Nobel Prize in Literature?",
        "What did the Kyrgyz foreign minister call a threat to Central Asia?",
    ]
    alone = [answer(q, settings=corpus_settings) for q in questions]
    with ThreadPoolExecutor(6) as pool:
        together = list(pool.map(lambda q: answer(q, settings=corpus_settings), questions * 3))
    assert together == alone * 3


@pytest.mark.parametrize(
    "question",
    [
        "Where will the 16th Korea-Central Asia Cooperation Forum be held?",  # covered: 11th-15th
        "What did the foreign ministers agree in Tashkent?",  # a place no document names
        "Who represented Mongolia at the 14th forum?",  # a country no document names
    ],
)
def test_a_question_about_something_the_documents_never_mention_is_refused(
    corpus_settings, question: str
) -> None:  # type: ignore[no-untyped-def]
    a = answer(question, settings=corpus_settings)
    assert not a.answered and a.citations == []


def test_a_question_about_two_documents_is_answered_from_both(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    a = answer("In which cities were the 12th and the 14th forums held?", settings=corpus_settings)
    assert a.answered and "Nur-Sultan" in a.text and "Dushanbe" in a.text
    assert {c.source for c in a.citations} >= {
        "outcome-of-12th-rok-central-asia-cooperation-forum.txt",
        "14th-central-asia-rok-cooperation-forum-dushanbe.txt",
    }


def test_the_reader_leads_with_what_answers(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    """The README's first example: the sentence that names the place, not attendance figures,
    with the place marked as the short answer."""
    a = answer("In which city did the 14th forum take place?", settings=corpus_settings)
    assert a.answered and "Dushanbe" in a.citations[0].quote
    lead = a.citations[0]
    assert lead.answer_start is not None and lead.answer_end is not None
    _, text = document_text(lead.source, corpus_settings)
    assert text[lead.answer_start : lead.answer_end] == "Dushanbe"


def test_a_follow_up_is_answered_from_its_standalone_question(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "Which Kazakh official praised Korea's e-government system?"},
        {"role": "assistant", "content": "..."},
    ]
    a = answer("Which agencies did he hope would work together?", history, settings=corpus_settings)
    assert "e-government" in a.standalone_question
    assert a.answered and "KOICA" in a.text and "KazAID" in a.text


@pytest.mark.parametrize(
    "question",
    [
        "When were diplomatic relations between Korea and Central Asia established?",
        "What did the Uzbek foreign minister hope the forum would contribute to?",
        "On what date was the 13th forum to be held?",
        "Which prime minister visited Tajikistan and Kyrgyzstan?",
    ],
)
def test_every_quote_sits_at_its_offsets(corpus_settings, question: str) -> None:  # type: ignore[no-untyped-def]
    a = answer(question, settings=corpus_settings)
    assert a.answered
    for c in a.citations:
        _, text = document_text(c.source, corpus_settings)
        assert text[c.start : c.end] == c.quote
        assert f"[{c.n}]" in a.text

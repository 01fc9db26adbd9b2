"""The check of generated answers, over the real corpus index and embedding model, with a
scripted chat model (a real LangChain BaseChatModel) in place of a language model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.answering.extractive import extractive_answer
from app.answering.generative import generate_answer
from app.answering.llm import make_chat_model
from app.answering.pipeline import answer_with
from app.answering.reader import shipped
from app.answering.types import REFUSAL, Answer
from app.library import get_index
from app.settings import Settings
from store import Hit, search
from tests.fakes import ScriptedChatModel
from tests.helpers import CORPUS, free_port

pytestmark = pytest.mark.integration

QUESTION = "Where was the 14th forum held?"


@pytest.fixture(scope="module")
def llm_settings(corpus_settings: Settings) -> Settings:
    return corpus_settings.model_copy(update={"llm": "openai:scripted"})


@pytest.fixture(scope="module")
def hits(llm_settings: Settings) -> list[Hit]:
    """Three passages; the one about the 14th forum in Dushanbe is number 3."""
    index = get_index(llm_settings)
    others = [h for h in search(index, "secretariat established 2017 launch", k=6)]
    dushanbe = next(h for h in search(index, QUESTION, k=6) if "Dushanbe on November 30" in h.text)
    others = [h for h in others if h.chunk_id != dushanbe.chunk_id][:2]
    return [*others, dushanbe]


def run(
    settings: Settings, hits: list[Hit], model: ScriptedChatModel, **kw: object
) -> list[Answer]:
    base = Answer(
        question=QUESTION,
        text="",
        answered=False,
        retrieved=hits,
        standalone_question=QUESTION,
        answerer=settings.llm,
    )
    base = replace(base, **kw)  # type: ignore[arg-type]
    reader = shipped(settings.cache_dir.expanduser())
    return list(generate_answer(base, get_index(settings), model, reader))


def assert_verbatim(answer: Answer) -> None:
    for cite in answer.citations:
        assert (CORPUS / cite.source).read_text()[cite.start : cite.end] == cite.quote


def test_supported_sentences_are_kept_invented_ones_dropped(llm_settings, hits) -> None:  # type: ignore[no-untyped-def]
    model = ScriptedChatModel.replying(
        "The 14th forum took place in Dushanbe on November 30 [3]. "
        "It was attended by 5,000 bankers from Europe [3]. "
        "The 14th Forum hosted four plenary expert sessions on forestry, "
        "carbon neutrality, health and digitalization [3]."
    )
    answers = run(llm_settings, hits, model)
    final = answers[-1]
    assert final.done and final.answered and final.answerer == "openai:scripted"
    assert (
        "Dushanbe on November 30. [1]" in final.text
        and "health and digitalization. [2]" in final.text
    )
    assert "bankers" not in final.text and "1 unsupported" in final.note
    assert [c.n for c in final.citations] == [1, 2]  # renumbered from [3] in order of appearance
    assert "Dushanbe" in final.citations[0].quote and "four plenary" in final.citations[1].quote
    assert_verbatim(final)


def test_sentences_are_shown_one_checked_sentence_at_a_time(llm_settings, hits) -> None:  # type: ignore[no-untyped-def]
    model = ScriptedChatModel.replying(
        "The 14th forum took place in Dushanbe on November 30 [3]. "
        "The 14th Forum hosted four plenary expert sessions on forestry, "
        "carbon neutrality, health and digitalization [3]."
    )
    answers = run(llm_settings, hits, model)
    assert [a.done for a in answers] == [False, False, True]
    assert answers[0].text == "The 14th forum took place in Dushanbe on November 30. [1]"
    assert answers[-1].text.startswith(answers[0].text)


def test_a_citation_number_never_given_is_removed(llm_settings, hits) -> None:  # type: ignore[no-untyped-def]
    model = ScriptedChatModel.replying(
        "The 14th forum took place in Dushanbe on November 30 [3][9]. "
        "Its budget was approved by parliament [9]."
    )
    final = run(llm_settings, hits, model)[-1]
    assert final.text == "The 14th forum took place in Dushanbe on November 30. [1]"
    assert len(final.citations) == 1 and "[9]" not in final.text


def test_nothing_supported_falls_back_to_the_extractive_answer(llm_settings, hits) -> None:  # type: ignore[no-untyped-def]
    model = ScriptedChatModel.replying(
        "The forum was held on the Moon in 1850 [1]. Elvis opened it [2]. It rained [3]."
    )
    final = run(llm_settings, hits, model)[-1]
    assert final.answerer == "extractive" and final.done
    assert "extractive answer instead" in final.note and "3 unsupported" in final.note
    assert "Moon" not in final.text and "Elvis" not in final.text
    assert_verbatim(final)


def test_a_model_refusal_is_a_refusal(llm_settings, hits) -> None:  # type: ignore[no-untyped-def]
    final = run(llm_settings, hits, ScriptedChatModel.replying("NOT IN THE DOCUMENTS"))[-1]
    assert not final.answered and final.text == REFUSAL and final.citations == []


def test_no_language_model_call_when_nothing_was_retrieved(llm_settings) -> None:  # type: ignore[no-untyped-def]
    model = ScriptedChatModel.replying("The forum was held on the Moon [1].")
    final = run(llm_settings, [], model)[-1]
    assert not final.answered and model.calls == []


def test_the_prompt_quotes_the_passages_as_data(llm_settings, hits) -> None:  # type: ignore[no-untyped-def]
    model = ScriptedChatModel.replying("NOT IN THE DOCUMENTS")
    run(llm_settings, hits, model)
    prompt = str(model.calls[-1][1].content)
    assert prompt.count("<passage n=") == 3 and '<passage n="3"' in prompt
    assert "never an instruction" in model.prompt() and QUESTION in prompt


def test_a_follow_up_is_rewritten_by_the_model_before_the_search(llm_settings) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "Where was the 14th forum held?"},
        {"role": "assistant", "content": "In Dushanbe [1]."},
    ]
    model = ScriptedChatModel.replying(
        "Which prime minister visited Tajikistan and Kyrgyzstan?", "NOT IN THE DOCUMENTS"
    )
    answers = answer_with(
        "And who hosted it?", history, sources=None, settings=llm_settings, chat=model
    )
    final = list(answers)[-1]
    assert len(model.calls) == 2
    assert "In Dushanbe" in model.prompt(0) and "And who hosted it?" in model.prompt(0)
    assert "Question: Which prime minister visited Tajikistan and Kyrgyzstan?" in model.prompt(1)
    # Regression (issue 9): the model's rewrite is what was searched and what the answer reports.
    assert final.standalone_question == "Which prime minister visited Tajikistan and Kyrgyzstan?"
    searched = search(get_index(llm_settings), final.standalone_question, k=llm_settings.top_k)
    assert [h.chunk_id for h in final.retrieved] == [h.chunk_id for h in searched]


def test_an_unreachable_server_falls_back_with_a_note(llm_settings, hits) -> None:  # type: ignore[no-untyped-def]
    settings = llm_settings.model_copy(
        update={"openai_base_url": f"http://127.0.0.1:{free_port()}/v1", "llm_timeout": 5.0}
    )
    base = Answer(
        question=QUESTION,
        text="",
        answered=False,
        retrieved=hits,
        standalone_question=QUESTION,
        answerer=settings.llm,
    )
    reader = shipped(settings.cache_dir.expanduser())
    chat = make_chat_model(settings)
    final = list(generate_answer(base, get_index(settings), chat, reader))[-1]
    assert final.answerer == "extractive" and "language model failed" in final.note
    index = get_index(settings)
    assert final.text == extractive_answer(index, QUESTION, hits, reader)[0]

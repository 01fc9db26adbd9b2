"""Sourcebook as LangChain parts in real LCEL chains, over the real corpus index: the retriever's
documents and the runnable's answers carry exact offsets into the documents."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel

import app
from app import Answer, AnswerError
from app.library import document_text

pytestmark = pytest.mark.integration

PRIME_MINISTER = "Which prime minister visited Tajikistan and Kyrgyzstan?"
FORUM = "In which city did the 14th forum take place?"
UNANSWERABLE = "Who won the 2014 Nobel Prize in Literature?"


def format_docs(docs: list[Document]) -> str:
    """What a prompt would receive: each passage under where it comes from."""
    return "\n\n".join(
        f"[{d.metadata['source']} {d.metadata['start']}:{d.metadata['end']}]\n{d.page_content}"
        for d in docs
    )


def assert_cited_verbatim(answer: Answer, settings) -> None:  # type: ignore[no-untyped-def]
    assert answer.citations
    for c in answer.citations:
        assert f"[{c.n}]" in answer.text
        _, text = document_text(c.source, settings)
        assert text[c.start : c.end] == c.quote


def test_retriever_gives_documents_that_point_into_their_sources(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    retriever = app.as_retriever(k=3, settings=corpus_settings)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(PRIME_MINISTER)
    assert len(docs) == 3
    assert docs[0].metadata["source"] == "outcome-of-12th-rok-central-asia-cooperation-forum.txt"
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    for d in docs:
        assert {"source", "start", "end", "page", "heading", "score", "title"} <= d.metadata.keys()
        _, text = document_text(d.metadata["source"], corpus_settings)
        assert text[d.metadata["start"] : d.metadata["end"]] == d.page_content
        assert d.id == d.metadata["chunk_id"]


def test_retriever_in_an_lcel_chain_with_a_source_filter(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    only = "korea-policy-towards-kazakhstan-and-uzbekistan.txt"
    chain = app.as_retriever(k=2, sources=[only], settings=corpus_settings) | format_docs
    context = chain.invoke("energy cooperation")
    assert context.count(f"[{only} ") == 2
    assert "14th-central-asia" not in context


def test_runnable_answers_with_citations_in_a_chain(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    ask = app.as_runnable(settings=corpus_settings)
    assert isinstance(ask, Runnable)
    chain = RunnableLambda(lambda q: {"question": q}) | ask
    answer = chain.invoke(PRIME_MINISTER)
    assert isinstance(answer, Answer) and answer.answered
    assert "Lee Nak-yon" in answer.text
    assert_cited_verbatim(answer, corpus_settings)


def test_retriever_and_runnable_side_by_side(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    """The retriever is the search the answers are made from: same passages, same order."""
    k = corpus_settings.top_k
    both = RunnableParallel(
        docs=RunnableLambda(lambda x: x["question"])
        | app.as_retriever(k=k, settings=corpus_settings),
        answer=app.as_runnable(settings=corpus_settings),
    )
    out = both.invoke({"question": FORUM, "history": []})
    docs, answer = out["docs"], out["answer"]
    assert [d.id for d in docs] == [h.chunk_id for h in answer.retrieved]
    assert_cited_verbatim(answer, corpus_settings)
    assert all(any(c.quote in d.page_content for d in docs) for c in answer.citations)


def test_stream_yields_growing_answers_and_ends_done(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    answers = list(app.as_runnable(settings=corpus_settings).stream({"question": PRIME_MINISTER}))
    assert answers and all(isinstance(a, Answer) for a in answers)
    assert answers[-1].done and answers[-1].answered
    texts = [a.text for a in answers]
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:], strict=False))
    # Streamed through a chain, the step after it receives the final answer.
    chain = app.as_runnable(settings=corpus_settings) | (lambda a: a.text)
    assert "".join(chain.stream({"question": PRIME_MINISTER})) == answers[-1].text


def test_batch_answers_and_refuses(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    ask = app.as_runnable(settings=corpus_settings)
    found, refused = ask.batch([{"question": PRIME_MINISTER}, {"question": UNANSWERABLE}])
    assert found.answered and found == ask.invoke({"question": PRIME_MINISTER})
    assert_cited_verbatim(found, corpus_settings)
    assert not refused.answered and refused.citations == [] and "don't say" in refused.text


def test_follow_up_through_history(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    history = [{"role": "user", "content": FORUM}, {"role": "assistant", "content": "..."}]
    answer = app.as_runnable(settings=corpus_settings).invoke(
        {"question": "On what date was it held?", "history": history}
    )
    assert answer.answered and "November 30" in answer.text
    assert "14th" in answer.standalone_question
    assert_cited_verbatim(answer, corpus_settings)


def test_ainvoke_and_astream(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    ask = app.as_runnable(settings=corpus_settings)

    async def run() -> tuple[Answer, list[Answer], list[Document]]:
        answer = await ask.ainvoke({"question": PRIME_MINISTER})
        streamed = [a async for a in ask.astream({"question": PRIME_MINISTER})]
        docs = await app.as_retriever(k=2, settings=corpus_settings).ainvoke(PRIME_MINISTER)
        return answer, streamed, docs

    answer, streamed, docs = asyncio.run(run())
    assert answer == streamed[-1] and answer.answered
    assert_cited_verbatim(answer, corpus_settings)
    assert len(docs) == 2


def test_bad_input_is_a_clear_error(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    ask = app.as_runnable(settings=corpus_settings)
    with pytest.raises(AnswerError, match="question"):
        ask.invoke({"query": PRIME_MINISTER})
    with pytest.raises(AnswerError, match="history"):
        ask.invoke({"question": PRIME_MINISTER, "history": "earlier"})
    with pytest.raises(AnswerError, match="empty"):
        ask.invoke({"question": "  "})

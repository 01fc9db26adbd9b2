"""The shipped reader: its ONNX export reads as the trained torch model does, it tells the
sentence that answers from its neighbours, and a question runs without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.answering.reader import (
    WEIGHTS,
    Sentence,
    answer_bar,
    base_model_path,
    batch_inputs,
    encode,
    export_folder,
    load,
    make_tokens,
    prepare,
)
from store.models import open_session

pytestmark = pytest.mark.integration

TITLE = "14th Central Asia ROK Cooperation Forum Dushanbe"
TEXTS = [
    "About 100 experts from Korea and the five Central Asian countries joined the Forum.",
    "Co-hosted by Tajik Foreign Minister Sirojiddin Muhriddin and Korean Foreign Minister Chung "
    "Eui-yong, the 14th Central Asia – the Republic of Korea Cooperation Forum took place in "
    "Dushanbe on November 30.",
    "In addition, they agreed to hold the 15th Forum in Seoul in 2022.",
]
SENTENCES = [Sentence(TITLE, t) for t in TEXTS]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder of its own: the reader exported from scratch (ONNX, int8, measured)."""
    folder = tmp_path_factory.mktemp("reader-cache")
    prepare(folder)
    return folder


def test_the_weights_file_is_small_and_names_its_bar() -> None:
    assert WEIGHTS.stat().st_size < 30_000_000
    assert 0.0 < answer_bar() < 1.0


def test_the_onnx_export_reads_as_the_torch_model_does(cache: Path) -> None:
    from app.answering.reader_model import load_scorer
    from train.weights import run_torch

    chosen = prepare(cache)  # already there: found, not made again
    folder = export_folder(cache)
    assert chosen.parent == folder
    assert json.loads((folder / "choice.json").read_text())["file"] == chosen.name
    inputs = batch_inputs(encode(make_tokens(), "Where was the forum held?", SENTENCES))
    expected = run_torch(load_scorer(WEIGHTS, base_model_path()), inputs)
    exported = open_session(folder / "reader.onnx")(inputs)
    for got, want in zip(exported, expected, strict=True):
        assert np.allclose(got, want, atol=1e-3)


def test_the_reader_tells_the_sentence_that_answers_from_its_neighbours(cache: Path) -> None:
    reader = load(cache)
    where = reader.score("In which city did the 14th forum take place?", SENTENCES)
    assert int(where.argmax()) == 1 and where[1] >= reader.bar
    later = reader.score("Where will the next forum be held?", SENTENCES)
    assert int(later.argmax()) == 2


def test_the_reader_marks_the_words_that_answer(cache: Path) -> None:
    reader = load(cache)
    reading = reader.read("In which city did the 14th forum take place?", SENTENCES)[1]
    assert reading.answer is not None
    assert TEXTS[1][slice(*reading.answer)] == "Dushanbe"


def test_a_question_runs_without_torch(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    code = (
        "import sys\n"
        "from app import answer\n"
        "a = answer('Where was the 14th Korea-Central Asia Cooperation Forum held?')\n"
        "assert a.answered, a\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    load(corpus_settings.cache_dir.expanduser())  # the export exists, as after `prepare`
    env = {**os.environ, "SOURCEBOOK_HOME": str(corpus_settings.home)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)

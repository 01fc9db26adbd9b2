"""The int8 OpenVINO encoder on the real model: exported and calibrated locally, close to torch."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from store import IndexMismatchError, load_model, make_embeddings, open_index, resolve_model_path
from store.encoders import calibration_texts, resolve_encoder

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
QUESTIONS = [
    "Where was the 12th ROK-Central Asia Cooperation Forum held?",
    "Who co-hosted the 14th Central Asia-ROK Cooperation Forum?",
    "When did the first Korea-Central Asia high-level officials meeting take place?",
    "What did Korea and Uzbekistan agree about cotton and textiles?",
    "water resources management cooperation",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("encoders")


@pytest.fixture(scope="module")
def int8(cache: Path):  # type: ignore[no-untyped-def]
    """Exported and quantized once for this module, on a small local calibration set."""
    texts = calibration_texts(CORPUS, samples=32)
    return make_embeddings(
        "all-MiniLM-L6-v2", "openvino-int8", cache_dir=cache, calibration=lambda: texts
    )


def test_int8_vectors_are_close_to_torch_fp32(int8) -> None:  # type: ignore[no-untyped-def]
    assert int8.backend == "openvino-int8", "the int8 backend fell back to torch"
    fp32 = load_model("all-MiniLM-L6-v2", "torch")
    texts = calibration_texts(CORPUS, samples=40)[::4] + QUESTIONS
    cosines = np.sum(int8.encode(texts) * fp32.encode(texts), axis=1)
    assert cosines.mean() >= 0.98 and cosines.min() >= 0.95


def test_int8_retrieval_agrees_with_torch(int8) -> None:  # type: ignore[no-untyped-def]
    fp32 = load_model("all-MiniLM-L6-v2", "torch")
    passages = calibration_texts(CORPUS, samples=60)
    best = {}
    for name, model in (("int8", int8), ("fp32", fp32)):
        scores = model.encode(QUESTIONS) @ model.encode(passages).T
        best[name] = [set(np.argsort(-row)[:5]) for row in scores]
        best[name + "@1"] = [int(np.argmax(row)) for row in scores]
    for top1, top5 in zip(best["int8@1"], best["fp32"], strict=True):
        assert top1 in top5  # int8's best passage is among fp32's five best


def test_export_is_cached_and_kept_out_of_site_packages(int8, cache: Path) -> None:  # type: ignore[no-untyped-def]
    path = resolve_model_path("all-MiniLM-L6-v2")
    texts = calibration_texts(CORPUS, samples=32)
    encoder = resolve_encoder(path, "openvino-int8", cache_dir=cache, calibration=lambda: texts)
    assert (
        encoder.path.is_relative_to(cache)
        and (encoder.path / encoder.kwargs["model_kwargs"]["file_name"]).exists()
    )
    assert not list(path.glob("openvino*")), "export wrote into the packaged model folder"
    assert encoder.variant == int8.variant  # the same export, found again, not redone


def test_unusable_backend_falls_back_to_torch_with_a_warning(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        model = make_embeddings("all-MiniLM-L6-v2", "openvino-int8", cache_dir=cache)
    assert model.backend == "torch" and model.variant == "torch"
    assert "using torch instead" in caplog.text and "calibration" in caplog.text


def test_switching_backend_needs_a_rebuild(make_settings) -> None:  # type: ignore[no-untyped-def]
    from app.library import index_config, ingest

    settings = make_settings(embedding_backend="torch")
    ingest(settings=settings)
    config = index_config(make_settings(embedding_backend="openvino-int8"))
    with pytest.raises(IndexMismatchError, match="embedding_backend 'torch'.*--rebuild"):
        open_index(config)

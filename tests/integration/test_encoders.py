"""Encoder backends on the real model: exported once into a cache (never into site-packages),
agreeing with torch fp32; `auto` measures once, caches its choice per CPU, and an index keeps the
backend it was built with; nothing that embeds nothing loads a model."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from store import IndexMismatchError, load_model, make_embeddings, open_index, resolve_model_path
from store.encoders import EXPORTED
from store.prepare import calibration_texts, choose, export_folder
from tests.helpers import CORPUS

pytestmark = pytest.mark.integration

QUESTIONS = [
    "In which city did the 14th forum take place?",
    "Which prime minister visited Tajikistan and Kyrgyzstan?",
    "When did the first Korea-Central Asia high-level officials meeting take place?",
    "What did Korea and Uzbekistan agree about cotton and textiles?",
    "water resources management cooperation",
]
EXPORTS = ["onnx", "onnx-int8", "openvino", "openvino-int8"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("encoders")


def small_calibration() -> list[str]:
    return calibration_texts(CORPUS, samples=32)


@pytest.mark.parametrize("backend", EXPORTS)
def test_every_exported_backend_agrees_with_torch_fp32(backend: str, cache: Path) -> None:
    model = make_embeddings(
        "all-MiniLM-L6-v2", backend, cache_dir=cache, calibration=small_calibration
    )
    assert model.backend == backend, f"{backend} fell back to torch"
    fp32 = load_model("all-MiniLM-L6-v2", "torch")
    passages = calibration_texts(CORPUS, samples=60)
    texts = passages[::4] + QUESTIONS
    cosines = np.sum(model.encode(texts) * fp32.encode(texts), axis=1)
    assert cosines.mean() >= 0.99 and cosines.min() >= 0.95
    ours = model.encode(QUESTIONS) @ model.encode(passages).T
    theirs = fp32.encode(QUESTIONS) @ fp32.encode(passages).T
    for row, ref in zip(ours, theirs, strict=True):
        assert int(np.argmax(row)) in set(np.argsort(-ref)[:5])  # its best is among fp32's five


def test_exports_are_cached_and_kept_out_of_site_packages(cache: Path) -> None:
    path = resolve_model_path("all-MiniLM-L6-v2")
    folder = export_folder(path, cache)
    before = {name: (folder / file).stat().st_mtime_ns for name, file in EXPORTED.items()}
    again = make_embeddings("all-MiniLM-L6-v2", "onnx-int8", cache_dir=cache)
    assert again.variant == f"onnx-int8-{folder.name}"
    assert {n: (folder / f).stat().st_mtime_ns for n, f in EXPORTED.items()} == before
    assert not [p for p in path.rglob("*") if p.suffix in (".onnx", ".xml")], (
        "wrote into the package"
    )


def test_unusable_backend_falls_back_to_torch_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):  # static int8 needs calibration text: none given
        model = make_embeddings("all-MiniLM-L6-v2", "openvino-int8", cache_dir=tmp_path)
    assert model.backend == "torch" and model.variant == "torch"
    assert "using torch instead" in caplog.text and "calibration" in caplog.text


def test_auto_measures_once_and_caches_its_choice_per_cpu(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = resolve_model_path("all-MiniLM-L6-v2")
    with caplog.at_level(logging.WARNING):
        first = choose(path, cache, small_calibration)
    assert "by measurement" in caplog.text
    measured = {m.backend: m for m in first.measured}
    assert {"torch", *EXPORTS} <= set(measured)
    assert measured[first.backend].agrees
    fastest = max((m for m in first.measured if m.agrees), key=lambda m: m.per_second)
    assert first.backend == fastest.backend
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert choose(path, cache, small_calibration) == first
    assert "by measurement" not in caplog.text  # cached: not measured again
    saved = json.loads((export_folder(path, cache) / "choice.json").read_text())
    assert saved[first.cpu]["backend"] == first.backend


def test_an_index_keeps_the_backend_it_was_built_with(make_settings, cache: Path) -> None:  # type: ignore[no-untyped-def]
    from app.library import forget_open_indexes, index_config, index_status, ingest

    path = resolve_model_path("all-MiniLM-L6-v2")
    chosen = choose(path, cache, small_calibration).backend
    settings = make_settings(embedding_backend="auto", cache_dir=cache)
    ingest(settings=settings)
    assert index_status(settings)["embedding_backend"] == chosen  # the backend that runs
    other = next(b for b in ["torch", "onnx"] if b != chosen)
    choice_file = export_folder(path, cache) / "choice.json"
    saved = json.loads(choice_file.read_text())
    for entry in saved.values():
        entry["backend"] = other  # as if this CPU now measured another backend fastest
    choice_file.write_text(json.dumps(saved))
    forget_open_indexes()
    assert index_status(settings)["embedding_backend"] == chosen  # the index keeps its own
    fresh = make_settings(
        embedding_backend="auto", cache_dir=cache, home=settings.home.parent / "b"
    )
    ingest(settings=fresh)
    assert index_status(fresh)["embedding_backend"] == other  # a new index takes the new choice
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        open_index(index_config(make_settings(embedding_backend=other, cache_dir=cache)))


def test_switching_backend_needs_a_rebuild(make_settings) -> None:  # type: ignore[no-untyped-def]
    from app.library import index_config, ingest

    settings = make_settings(embedding_backend="torch")
    ingest(settings=settings)
    config = index_config(make_settings(embedding_backend="openvino-int8"))
    with pytest.raises(IndexMismatchError, match="embedding_backend 'torch'.*--rebuild"):
        open_index(config)


def test_an_unchanged_ingest_loads_no_model(make_settings, docs_folder: Path) -> None:  # type: ignore[no-untyped-def]
    from app.library import ingest

    settings = make_settings(folder=docs_folder)
    ingest(settings=settings)
    code = (
        "import json, sys; from app.library import get_index, ingest;"
        "r = ingest(); i = get_index();"
        "print(json.dumps({'embedded': r.texts_embedded, 'unchanged': r.unchanged,"
        " 'loaded': i.model_loaded, 'torch': 'torch' in sys.modules}))"
    )
    env = {
        **os.environ,
        "SOURCEBOOK_HOME": str(settings.home),
        "SOURCEBOOK_FOLDER": str(docs_folder),
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"embedded": 0, "unchanged": 5, "loaded": False, "torch": False}

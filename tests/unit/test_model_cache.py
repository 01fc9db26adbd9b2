"""Where exports are cached: a folder per weights and per exporting libraries, for every model
(issue 20: the reader's export key ignored library versions, the encoder's did not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answering import reader
from store.models import cache


def test_new_weights_or_a_new_exporter_never_reuse_an_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"one")
    first = cache.export_folder(tmp_path, "reader", "w", (weights,))
    assert cache.export_folder(tmp_path, "reader", "w", (weights,)) == first
    other = tmp_path / "retrained" / "w.safetensors"
    other.parent.mkdir()
    other.write_bytes(b"two")  # same name and size, other bytes
    assert cache.export_folder(tmp_path, "reader", "w", (other,)) != first
    monkeypatch.setattr(cache, "version", lambda name: "0" if name == "torch" else "1")
    assert cache.export_folder(tmp_path, "reader", "w", (weights,)) != first


def test_the_reader_is_keyed_by_library_versions_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = reader.export_folder(tmp_path)
    monkeypatch.setattr(cache, "version", lambda name: "another")
    assert reader.export_folder(tmp_path) != before
    assert before.parent == tmp_path / "reader"

"""The pieces that keep the encoder busy: read-ahead, the vector cache, the ETA, the build key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.interfaces.progress import eta
from ingest.prefetch import prefetch
from store.embeddings import CachedEmbeddings
from store.index import IndexConfig
from store.prepare import calibration_texts


class CountingEncoder:
    """Stands in for SentenceTransformerEmbeddings: records every text it is asked to encode."""

    model_name = "all-MiniLM-L6-v2"

    def __init__(self, variant: str = "torch") -> None:
        self.variant = variant
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def make_cache(encoder: CountingEncoder, store: dict[str, bytes]) -> CachedEmbeddings:
    get = lambda keys: {k: store[k] for k in keys if k in store}  # noqa: E731
    return CachedEmbeddings(encoder, get, store.update)  # type: ignore[arg-type]


def test_identical_texts_are_embedded_once_within_a_batch_across_batches_and_runs() -> None:
    store: dict[str, bytes] = {}
    encoder = CountingEncoder()
    cached = make_cache(encoder, store)
    boilerplate = "Copyright 2024. All rights reserved."
    first = cached.embed_documents([boilerplate, "a", boilerplate, "b"])
    assert encoder.calls == [[boilerplate, "a", "b"]] and first[0] == first[2]
    cached.embed_documents([boilerplate, "c"])  # the next batch of the same run
    assert encoder.calls[-1] == ["c"]
    again = make_cache(encoder, store)  # a later run, same index
    again.embed_documents([boilerplate, "a", "b", "c"])
    assert len(encoder.calls) == 2 and cached.texts_embedded == 4 and again.texts_embedded == 0


def test_vector_cache_keys_differ_by_backend() -> None:
    store: dict[str, bytes] = {}
    make_cache(CountingEncoder("torch"), store).embed_documents(["same text"])
    int8 = CountingEncoder("openvino-int8-abc")
    make_cache(int8, store).embed_documents(["same text"])
    assert int8.calls == [["same text"]] and len(store) == 2  # no torch vector reused


def test_prefetch_keeps_order_and_runs_ahead_in_another_thread() -> None:
    seen: list[str] = []

    def produce() -> Iterator[int]:
        for i in range(50):
            seen.append(threading.current_thread().name)
            yield i

    assert list(prefetch(produce(), 4, name="reader")) == list(range(50))
    assert set(seen) == {"reader"}


def test_prefetch_raises_the_producers_error_in_the_consumer() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise ValueError("bad file")

    got = []
    with pytest.raises(ValueError, match="bad file"):
        for item in prefetch(produce(), 2):
            got.append(item)
    assert got == [1]


def test_prefetch_stops_its_producer_when_the_consumer_stops() -> None:
    produced = []

    def produce() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    stream = prefetch(produce(), 3)
    assert next(stream) == 0
    stream.close()
    assert len(produced) < 10  # bounded: it never ran far ahead, and it stopped


def test_eta_from_the_rate_so_far() -> None:
    assert eta(0, 10, 5.0) == "" and eta(10, 10, 5.0) == ""
    assert eta(5, 10, 10.0) == ", about 10s left"
    assert eta(1, 10, 20.0) == ", about 3m00s left"


def test_backend_is_part_of_the_build_key(tmp_path: Path) -> None:
    torch = IndexConfig(tmp_path, "all-MiniLM-L6-v2", 200, 32)
    int8 = IndexConfig(tmp_path, "all-MiniLM-L6-v2", 200, 32, embedding_backend="openvino-int8")
    assert torch.build_key["embedding_backend"] == "torch"
    assert torch.collection_name != int8.collection_name


def test_calibration_windows_are_chunk_sized_and_spread(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("word " * 5000)
    windows = calibration_texts(tmp_path, samples=20)
    assert len(windows) == 20 and all(900 <= len(w) <= 1000 for w in windows)
    assert calibration_texts(tmp_path / "missing") == []

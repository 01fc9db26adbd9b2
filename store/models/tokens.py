"""A model's word-piece tokenizer (`tokenizer.json` through `tokenizers`, no torch)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

# The inputs of every export, in this order (a model that takes fewer is fed only its own).
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Tokens:
    """Word pieces without special tokens (`pieces`, `count`), and padded batches with them
    (`batch`, each text cut at `max_tokens` pieces).

    Two copies of the tokenizer: counting runs in ingest's reader thread while the encoder makes
    batches in another, and one Rust tokenizer with settings serves one caller at a time
    (https://github.com/huggingface/tokenizers/issues/537)."""

    def __init__(self, model_path: Path, max_tokens: int | None = None) -> None:
        from tokenizers import Tokenizer

        file = str(model_path / "tokenizer.json")
        self._plain = Tokenizer.from_file(file)
        self._plain.no_truncation()
        self._plain.no_padding()
        self._plain_lock = threading.Lock()
        self._padded = Tokenizer.from_file(file)
        if max_tokens is not None:
            self._padded.enable_truncation(max_tokens)
        self._padded.enable_padding(pad_id=0, pad_token="[PAD]")

    def pieces(self, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """Each text's word-piece ids and their character offsets, without special tokens."""
        with self._plain_lock:
            encoded = self._plain.encode_batch(texts, add_special_tokens=False)
        return [(e.ids, e.offsets) for e in encoded]

    def count(self, text: str) -> int:
        """Word pieces in `text`, without the special tokens."""
        with self._plain_lock:
            return len(self._plain.encode(text, add_special_tokens=False).ids)

    def batch(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The model's INPUTS for `texts` (one segment each), padded to the longest."""
        encoded = self._padded.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}

"""Encoder runtimes: texts in, unit vectors out.

`torch` runs the packaged sentence-transformers model as it ships (the reference). The others
run an export of the same weights that `store/prepare.py` made once into the cache: `onnx` and
`onnx-int8` with ONNX Runtime, `openvino` and `openvino-int8` with OpenVINO. These read their
inputs with the `tokenizers` library and pool in NumPy, so they import neither torch nor
sentence-transformers: a fresh process answers sooner.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from store.errors import BackendUnavailable
from store.models import Run, Tokens, open_session

BACKENDS = ("torch", "onnx", "onnx-int8", "openvino", "openvino-int8")
# The file of each exported backend inside an export folder (store/prepare.py writes them).
EXPORTED = {
    "onnx": "model.onnx",
    "onnx-int8": "model-int8.onnx",
    "openvino": "openvino/model.xml",
    "openvino-int8": "openvino-int8/model.xml",
}
MAX_TOKENS = 256  # all-MiniLM-L6-v2 reads 256 word pieces (sentence_bert_config.json)
BATCH = 32


class Encoder(ABC):
    """One loaded model: `encode` gives unit vectors; `backend` is what really runs and
    `variant` names its exact weights (vector cache keys use it: spaces never mix)."""

    backend: str
    variant: str

    @abstractmethod
    def encode(self, texts: list[str]) -> np.ndarray: ...


class TorchEncoder(Encoder):
    """sentence-transformers on torch, fp32: the model as it ships."""

    def __init__(self, model_path: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self.backend = self.variant = "torch"
        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class ExportedEncoder(Encoder):
    """An exported model run by ONNX Runtime or OpenVINO, mean-pooled and normalised as
    sentence-transformers does (all-MiniLM-L6-v2: Transformer -> mean Pooling -> Normalize)."""

    def __init__(self, backend: str, variant: str, run: Run, tokens: Tokens) -> None:
        self.backend, self.variant = backend, variant
        self._run = run
        self._tokens = tokens

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 0), dtype=np.float32)
        # Batches of similar length waste little on padding (as sentence-transformers sorts).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for lo in range(0, len(order), BATCH):
            idx = order[lo : lo + BATCH]
            inputs = self._tokens.batch([texts[i] for i in idx])
            vectors = mean_pool(self._run(inputs)[0], inputs["attention_mask"])
            if out.shape[1] == 0:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[idx] = vectors
        return out


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Unit vectors: the mean of the token states under the attention mask."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden.astype(np.float32) * weights).sum(axis=1)
    vectors = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.clip(norms, 1e-12, None), dtype=np.float32)


def load_encoder(model_path: Path, backend: str, export: Path | None, variant: str) -> Encoder:
    """The encoder of `backend`: torch from the packaged folder, the others from `export`."""
    if backend == "torch":
        return TorchEncoder(model_path)
    if backend not in EXPORTED or export is None or not (export / EXPORTED[backend]).exists():
        raise BackendUnavailable(
            f"the {backend} encoder was not prepared; run `sourcebook prepare`"
        )
    path = export / EXPORTED[backend]
    try:
        run = open_session(path)
    except ImportError as e:
        raise BackendUnavailable(f"the {backend} runtime is not installed ({e})") from e
    return ExportedEncoder(backend, variant, run, Tokens(model_path, MAX_TOKENS))

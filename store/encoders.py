"""Encoder runtimes for sentence-transformers: torch today, quantized ones beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from store.errors import StoreError


def load_kwargs(path: Path, backend: str) -> dict[str, Any]:
    """Keyword arguments for `SentenceTransformer(path, ...)` that select `backend`."""
    if backend == "torch":
        return {}
    raise StoreError(f"embedding backend {backend!r} is not available; use torch")

"""What an index is built with, and the names derived from it."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IndexConfig:
    """What an index is built with; a different value means a different vector space."""

    home: Path
    embedding_model: str
    chunk_tokens: int
    chunk_overlap: int
    chroma_url: str | None = None
    embedding_backend: str = "torch"
    # Where exported encoders are cached, and the local text int8 calibrates on: not part of the
    # build key (the backend is), since they only say how to get the same weights.
    encoder_cache: Path | None = None
    calibration_folder: Path | None = None
    # PostgreSQL holding what SQLite holds in the home, shared by several servers; its id stands
    # in for the home's in the collection name (open_index reads it from the database).
    database_url: str | None = None
    index_id: str | None = None

    @property
    def build_key(self) -> dict[str, str]:
        return {
            "embedding_model": self.embedding_model,
            "embedding_backend": self.embedding_backend,
            "chunk_tokens": str(self.chunk_tokens),
            "chunk_overlap": str(self.chunk_overlap),
        }

    @property
    def collection_name(self) -> str:
        """Derived from the build settings, so that two vector spaces never share a collection,
        and from the home's id, so that two homes on one Chroma server never share one either."""
        slug = re.sub(r"[^a-zA-Z0-9]+", "-", Path(self.embedding_model).name).strip("-").lower()
        key = self.build_key
        if key["embedding_backend"] == "torch":
            del key["embedding_backend"]  # torch indexes predate the key: keep their names
        digest = hashlib.sha256(repr(sorted(key.items())).encode()).hexdigest()[:10]
        return f"sourcebook-{slug[:40]}-{digest}-{self.index_id or home_id(self.home)}"


def home_id(home: Path) -> str:
    """A random id for an index home, made the first time it is asked for."""
    path = home / "index-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        new = os.urandom(4).hex()
        tmp = home / f".index-id.{os.getpid()}"
        tmp.write_text(new)
        tmp.replace(path)
        return path.read_text().strip()

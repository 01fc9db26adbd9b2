"""Where a model's exports are kept: a folder named by the model's weights and by the versions
of the libraries that export and run them, so that neither new weights nor a new exporter ever
reuses an old export; one export at a time per folder, across processes; and the record of what
was chosen there (e.g. int8 or fp32), written whole or not at all."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

# What an export depends on besides the weights.
VERSIONED = ("torch", "transformers", "onnx", "onnxruntime", "openvino", "nncf")


def version(distribution: str) -> str:
    """The installed version of `distribution`, "-" when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def export_folder(cache_dir: Path, kind: str, name: str, weights: tuple[Path, ...]) -> Path:
    """`cache_dir/kind/name-KEY`: KEY digests the weights' bytes and the libraries' versions."""
    h = hashlib.sha256()
    for file in weights:
        h.update(
            f"{file.name}:{_digest(file, file.stat().st_size, file.stat().st_mtime_ns)}".encode()
        )
    for library in VERSIONED:
        h.update(f"{library}={version(library)}".encode())
    return cache_dir.expanduser() / kind / f"{name[:40]}-{h.hexdigest()[:16]}"


@cache
def _digest(file: Path, size: int, mtime_ns: int) -> str:
    """A file's SHA-256, once per process (size and mtime: a file replaced is read again)."""
    h = hashlib.sha256()
    with open(file, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


@contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """One export at a time into `folder`'s parent, across threads and processes."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / ".export.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_record(file: Path) -> dict[str, Any]:
    """A choice recorded beside the exports; {} when there is none (or half of one)."""
    try:
        record = json.loads(file.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_record(file: Path, record: dict[str, Any]) -> None:
    """Write `record` under a temporary name and rename it: readers see all of it or none."""
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(f".{file.name}.tmp")
    partial.write_text(json.dumps(record, indent=2))
    partial.replace(file)

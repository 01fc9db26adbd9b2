"""The ingest's exceptions (their place in the tree: store/errors.py)."""

from __future__ import annotations

from store import SourcebookError


class IngestError(SourcebookError):
    """The ingest as a whole cannot run (missing folder, ...); the message says what to do."""


class LoadError(SourcebookError):
    """A file that cannot be ingested; the message says why, for the person who owns it."""

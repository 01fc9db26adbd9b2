"""Indexed documents as viewer, tools and answerer read them: text, places, scanned pages."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from app.library.handles import NoIndexError, get_index
from app.settings import Settings, get_settings
from ingest import LoadError, content_hash, page_image_bounded
from ingest.chunking import place_of_span
from store import StoredText

__all__ = ["document", "document_text", "list_sources", "page_image", "place_of_span"]

log = logging.getLogger(__name__)


def document(source: str, settings: Settings | None = None) -> StoredText:
    """An indexed document: its extracted text (the text citation offsets point into), title and
    sections. Only indexed sources can be read: a path that is not one (`../x`, `/etc/passwd`)
    is unknown."""
    stored = get_index(settings).document(source)
    if stored is None:
        raise NoIndexError(f"{source!r} is not a document in the index")
    return stored


def document_text(source: str, settings: Settings | None = None) -> tuple[str, str]:
    """(title, extracted text) of an indexed document, the text that citation offsets point into."""
    stored = document(source, settings)
    return stored.title, stored.text


PICTURES_KEPT = 16  # pages a viewer goes back to: bench/lru.py


def page_image(source: str, page: int, settings: Settings | None = None) -> bytes | None:
    """A PNG of page `page` of indexed `source` (a scan: PDF or image), for the viewer; None when
    the file is gone, no longer holds what was indexed, or cannot be drawn. Rendered in the
    parse worker, as a hostile file is parsed at ingest."""
    settings = settings or get_settings()
    folder = Path(get_index(settings).meta().get("folder") or settings.folder).resolve()
    doc_hash = document(source, settings).doc_hash
    try:
        return _picture(folder, source, doc_hash, page, settings.max_file_mb * 1e6)
    except LoadError as e:  # the recognised text still shows; the picture is a bonus
        log.warning("no picture of %s p. %d: %s", source, page, e)
        return None


@lru_cache(maxsize=PICTURES_KEPT)
def _picture(folder: Path, source: str, doc_hash: str, page: int, max_bytes: float) -> bytes:
    """The picture of a page of the file indexed with `doc_hash`; a LoadError (not cached: the
    next open tries again) when the file is gone, edited since, or cannot be drawn."""
    path = (folder / source).resolve()
    try:
        if not path.is_relative_to(folder) or path.stat().st_size > max_bytes:
            raise LoadError("not a file of the folder, or over the size limit")
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read it ({e.strerror or e})") from e
    if content_hash(data) != doc_hash:  # its picture would not match the indexed text
        raise LoadError("edited since it was indexed")
    return page_image_bounded(path, data, page)


def list_sources(settings: Settings | None = None) -> list[str]:
    """The indexed documents, by source path."""
    return get_index(settings).sources()

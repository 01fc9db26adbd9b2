"""Indexed documents as viewer, tools and answerer read them: text, places, scanned pages."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
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


_IMAGES: OrderedDict[tuple[str, int], bytes] = OrderedDict()  # (doc_hash, page) -> image
_IMAGES_KEPT = 16
_LOCK = threading.Lock()


def page_image(source: str, page: int, settings: Settings | None = None) -> bytes | None:
    """A PNG of page `page` of indexed `source` (a scan: PDF or image), for the viewer; None when
    the file is gone, no longer holds what was indexed, or cannot be drawn. Rendered in the
    parse worker, as a hostile file is parsed at ingest."""
    settings = settings or get_settings()
    index = get_index(settings)
    stored = document(source, settings)
    key = (stored.doc_hash, page)
    with _LOCK:
        if key in _IMAGES:
            return _IMAGES[key]
    folder = Path(index.meta().get("folder") or settings.folder).resolve()
    path = (folder / source).resolve()
    try:
        if not path.is_relative_to(folder) or path.stat().st_size > settings.max_file_mb * 1e6:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if content_hash(data) != stored.doc_hash:
        return None  # edited since it was indexed: its picture would not match the text
    try:
        image = page_image_bounded(path, data, page)
    except LoadError as e:  # the recognised text still shows; the picture is a bonus
        log.warning("no picture of %s p. %d: %s", source, page, e)
        return None
    with _LOCK:
        _IMAGES[key] = image
        while len(_IMAGES) > _IMAGES_KEPT:
            _IMAGES.popitem(last=False)
    return image


def list_sources(settings: Settings | None = None) -> list[str]:
    """The indexed documents, by source path."""
    return get_index(settings).sources()

"""The index as the app sees it: built from the settings, opened once per process."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.settings import BUNDLED_CORPUS, Settings, get_settings
from ingest import (
    IngestReport,
    LoadError,
    Progress,
    content_hash,
    ingest_folder,
    page_image_bounded,
)
from ingest.chunking import PLACE_KEYS, place_of, section_at
from store import (
    Hit,
    Index,
    IndexConfig,
    SourcebookError,
    StoredText,
    StoreError,
    open_index,
    search,
    shown_url,
)
from store.migrate import Migrated
from store.migrate import migrate as store_migrate
from store.prepare import Choice

log = logging.getLogger(__name__)

_OPEN: dict[IndexConfig, Index] = {}
_LOCK = threading.Lock()


class NoIndexError(StoreError):
    """Nothing has been ingested into this home yet."""


def index_config(settings: Settings) -> IndexConfig:
    return IndexConfig(
        home=settings.home.expanduser().resolve(),
        embedding_model=settings.embedding_model,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap=settings.chunk_overlap,
        chroma_url=settings.chroma_url,
        embedding_backend=settings.embedding_backend,
        encoder_cache=settings.cache_dir.expanduser(),
        calibration_folder=BUNDLED_CORPUS,
        database_url=settings.database_url or None,
    )


def shown_database(url: str | None) -> str:
    """Where the text store is, as the status shows it (never a password)."""
    return shown_url(url) if url else "SQLite in the home"


def get_index(settings: Settings | None = None) -> Index:
    """The index the settings name, opened once per process; an error if none was built."""
    settings = settings or get_settings()
    config = index_config(settings)
    with _LOCK:
        index = _OPEN.get(config)
        if index is None:
            if not config.database_url and not (config.home / "sourcebook.sqlite").exists():
                raise NoIndexError(f"no index in {config.home}; run `sourcebook ingest` first")
            index = open_index(config)
            _OPEN[config] = index
    if not index.built():
        raise NoIndexError(f"no index in {config.home}; run `sourcebook ingest` first")
    return index


def forget_open_indexes() -> None:
    """Drop cached handles (after a rebuild replaced what they point at)."""
    with _LOCK:
        for index in _OPEN.values():
            index.close()
        _OPEN.clear()


def ingest(
    paths: list[Path] | None = None,
    *,
    rebuild: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index in step with the sources folder (or with `paths` inside it).

    One folder path that lies outside the configured folder is ingested as *the* folder.
    """
    settings = settings or get_settings()
    folder = settings.folder
    if paths and len(paths) == 1 and paths[0].is_dir():
        inside = paths[0].resolve().is_relative_to(folder.resolve())
        if not inside or paths[0].resolve() == folder.resolve():
            folder, paths = paths[0], None
    if rebuild:
        forget_open_indexes()
    report = ingest_folder(
        index_config(settings),
        folder,
        paths=paths,
        rebuild=rebuild,
        max_file_mb=settings.max_file_mb,
        progress=progress,
    )
    if rebuild:
        forget_open_indexes()
    return report


def migrate(
    source_home: Path | None = None,
    source_chroma_url: str | None = None,
    settings: Settings | None = None,
) -> Migrated:
    """Copy the SQLite index in `source_home` (default: the home) into the database and the
    Chroma server the settings name. Its vectors are read from `source_chroma_url`, else from
    Chroma on disk in that home if there is one, else from the settings' Chroma server."""
    settings = settings or get_settings()
    target = index_config(settings)
    home = (source_home or settings.home).expanduser().resolve()
    if source_chroma_url is None and not (home / "chroma").is_dir():
        source_chroma_url = settings.chroma_url
    source = replace(target, home=home, chroma_url=source_chroma_url, database_url=None)
    return store_migrate(source, target)


def find(
    query: str,
    k: int = 5,
    *,
    sources: list[str] | None = None,
    settings: Settings | None = None,
) -> list[Hit]:
    """The `k` best passages for `query` by hybrid search."""
    return search(get_index(settings), query, k=k, sources=sources)


def prepare(settings: Settings | None = None, *, remeasure: bool = False) -> Choice:
    """Make the encoder ready on this machine (exports, and `auto`'s choice by measurement),
    so that no ingest or question waits for it. Setup runs it once."""
    from store.embeddings import resolve_model_path
    from store.prepare import calibration_texts, choose
    from store.prepare import prepare as export

    settings = settings or get_settings()
    path = resolve_model_path(settings.embedding_model)
    cache = settings.cache_dir.expanduser()
    texts = lambda: calibration_texts(BUNDLED_CORPUS)  # noqa: E731 - evaluated only if needed
    choice = choose(path, cache, texts, remeasure=remeasure)
    wanted = choice.backend if settings.embedding_backend == "auto" else settings.embedding_backend
    export(path, wanted, cache, texts)
    return choice


def warm_up(settings: Settings | None = None) -> None:
    """Open the index and load the embedding model now, so the first question does not wait."""
    try:
        find("warm up", k=1, settings=settings)
    except SourcebookError as e:
        log.warning("index not ready yet: %s", e)


def index_status(settings: Settings | None = None) -> dict[str, object]:
    """What the index holds and how it was built, for the CLI and the UI's panel."""
    settings = settings or get_settings()
    config = index_config(settings)
    status: dict[str, object] = {
        "home": str(config.home),
        "folder": str(settings.folder.resolve()),
        "store": settings.chroma_url or "chroma on disk",
        "database": shown_database(settings.database_url),
        "embedding_model": settings.embedding_model,
        "embedding_backend": settings.embedding_backend,
        "answerer": settings.llm,
        "documents": 0,
        "chunks": 0,
        "last_ingest": None,
    }
    try:
        index = get_index(settings)
    except NoIndexError:
        return status
    documents, chunks = index.counts()
    meta = index.meta()
    status.update(
        documents=documents,
        chunks=chunks,
        embedding_backend=index.backend,
        folder=meta.get("folder", status["folder"]),
        last_ingest=meta.get("last_ingest"),
    )
    return status


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


def place_of_span(sections: list[dict[str, Any]], start: int, end: int) -> dict[str, Any]:
    """Where the span [start:end] of a document lies, by its `sections`: page, slide, sheet,
    row (to row_end), heading; None for what the document does not have."""
    place: dict[str, Any] = dict.fromkeys([*PLACE_KEYS, "row_end"])
    place.update(place_of(section_at(sections, start)))
    if place["row"] is not None:
        place["row_end"] = section_at(sections, max(start, end - 1)).get("row", place["row"])
    if place["sheet"] is not None and place["heading"] is None:
        place["heading"] = place["sheet"]  # as chunks have it: a sheet's name heads its rows
    return place


_IMAGES: OrderedDict[tuple[str, int], bytes] = OrderedDict()  # (doc_hash, page) -> image
_IMAGES_KEPT = 16


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


EXAMPLE_QUESTIONS = [
    "Where was the 12th ROK-Central Asia Cooperation Forum held?",
    "Who co-hosted the 14th Central Asia-ROK Cooperation Forum?",
    "When did the first Korea-Central Asia high-level officials meeting take place?",
]


def example_questions(settings: Settings | None = None) -> list[str]:
    """Questions the bundled corpus answers, offered on an empty chat; none for other folders."""
    settings = settings or get_settings()
    bundled = {p.name for p in BUNDLED_CORPUS.glob("*.txt")}
    folder = settings.folder
    present = {p.name for p in folder.glob("*.txt")} if folder.is_dir() else set()
    return list(EXAMPLE_QUESTIONS) if bundled and bundled <= present else []

"""The index as the app sees it: built from the settings, opened once per process."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from app.settings import BUNDLED_CORPUS, Settings, get_settings
from ingest import SUPPORTED, IngestReport, Progress, ingest_folder
from store import Hit, Index, IndexConfig, SourcebookError, StoreError, open_index, search

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
    )


def get_index(settings: Settings | None = None) -> Index:
    """The index the settings name, opened once per process; an error if none was built."""
    settings = settings or get_settings()
    config = index_config(settings)
    with _LOCK:
        index = _OPEN.get(config)
        if index is None:
            if not (config.home / "sourcebook.sqlite").exists():
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


def find(
    query: str,
    k: int = 5,
    *,
    sources: list[str] | None = None,
    settings: Settings | None = None,
) -> list[Hit]:
    """The `k` best passages for `query` by hybrid search."""
    return search(get_index(settings), query, k=k, sources=sources)


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


class UploadError(SourcebookError):
    """An uploaded file that cannot be stored; the message names it and says why."""


def document_text(source: str, settings: Settings | None = None) -> tuple[str, str]:
    """(title, extracted text) of an indexed document, the text that citation offsets point into.

    Only indexed sources can be read: a path that is not one (`../x`, `/etc/passwd`) is unknown.
    """
    index = get_index(settings)
    stored = index.document(source)
    if stored is None:
        raise NoIndexError(f"{source!r} is not a document in the index")
    return stored.title, stored.text


def list_sources(settings: Settings | None = None) -> list[str]:
    """The indexed documents, by source path."""
    return get_index(settings).sources()


def save_upload(filename: str, data: bytes, settings: Settings | None = None) -> Path:
    """Store an uploaded file in the documents folder (not ingested yet); refuses names that
    would land outside it and files over the size limit."""
    settings = settings or get_settings()
    name = Path(filename.replace("\\", "/")).name
    if not name or name.startswith(".") or name in ("..", "."):
        raise UploadError(f"{filename!r} is not a usable file name")
    if Path(name).suffix.lower() not in SUPPORTED:
        raise UploadError(f"{name}: unsupported type; Sourcebook reads {', '.join(SUPPORTED)}")
    limit = settings.max_upload_mb * 1e6
    if len(data) > limit:
        raise UploadError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {settings.max_upload_mb:g} MB "
            "(SOURCEBOOK_MAX_UPLOAD_MB)"
        )
    folder = settings.folder.resolve()
    target = (folder / "uploads" / name).resolve()
    if not target.is_relative_to(folder) or target.is_symlink():
        raise UploadError(f"{filename!r} would be stored outside the documents folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{name}.part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


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

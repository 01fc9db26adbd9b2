"""What the index holds and how it was built, for the CLI, the UI's panel and MCP."""

from __future__ import annotations

from app.library.folder import followed_folder
from app.library.handles import NoIndexError, get_index, index_config
from app.settings import Settings, get_settings
from store import shown_url


def shown_database(url: str | None) -> str:
    """Where the text store is, as the status shows it (never a password)."""
    return shown_url(url) if url else "SQLite in the home"


def index_status(settings: Settings | None = None) -> dict[str, object]:
    """What the index holds and how it was built, for the CLI and the UI's panel."""
    settings = settings or get_settings()
    config = index_config(settings)
    status: dict[str, object] = {
        "home": str(config.home),
        "folder": str(followed_folder(settings)),
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

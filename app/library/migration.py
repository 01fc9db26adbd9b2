"""`sourcebook migrate`: an index in SQLite copied into the shared database and Chroma server."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app.library.handles import index_config
from app.settings import Settings, get_settings
from store.migrate import Migrated
from store.migrate import migrate as store_migrate


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

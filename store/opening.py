"""Opening an index (the text store the settings name, its build checked, then Chroma), the
folder it follows, and deleting one."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from store.config import IndexConfig
from store.embeddings import Embedder, chosen_backend, load_model
from store.errors import IndexMismatchError, StoreError
from store.index import Index, make_record_manager
from store.keyword import FOLDER as KEYWORD_FOLDER
from store.textstore import TextStore
from store.vectors import (
    delete_collections,
    empty_collection,
    make_chroma_client,
    open_collection,
)


def open_text_store(home: Path, database_url: str | None) -> TextStore:
    """SQLite in `home`, or the PostgreSQL database at `database_url` (its driver imported only
    then: the single-machine default needs none)."""
    match database_url:
        case None | "":
            from store.textdb import TextDB

            return TextDB(home / "sourcebook.sqlite")
        case _:
            from store.pgtext import PgTextDB

            return PgTextDB(database_url)


def _open_chroma(config: IndexConfig, textdb: TextStore, embeddings: Embeddings) -> Any:
    try:
        client = make_chroma_client(config.chroma_url, str(config.home / "chroma"))
    except Exception as e:
        if textdb.read_only and not config.chroma_url:
            raise StoreError(
                f"the index in {config.home} is on a read-only file system, and Chroma on disk "
                "cannot open it there; make it writable, or serve its vectors from a Chroma "
                "server (SOURCEBOOK_CHROMA_URL)"
            ) from e
        raise
    return open_collection(client, config.collection_name, embeddings, config.build_key)


def check_build(textdb: TextStore, config: IndexConfig) -> None:
    """Refuse to mix an index's vectors with another model's or another chunking's."""
    meta = {"embedding_backend": "torch", **textdb.get_meta()}  # older indexes: torch
    if not meta.get("embedding_model"):
        return
    wanted = config.build_key
    diff = [f"{k} {meta.get(k)!r} (now {v!r})" for k, v in wanted.items() if meta.get(k) != v]
    if diff:
        raise IndexMismatchError(
            f"the index in {textdb.where} was built with {', '.join(diff)}; "
            "run `sourcebook ingest --rebuild` to rebuild it with the current settings"
        )


def resolve_backend(config: IndexConfig, textdb: TextStore) -> IndexConfig:
    """`auto` made concrete: an index keeps the backend it was built with; a new one gets the
    backend measured fastest on this CPU among those that agree with torch fp32."""
    if config.embedding_backend != "auto":
        return config
    meta = textdb.get_meta()
    if meta.get("embedding_model"):  # built: keep its backend (indexes older than the key: torch)
        return replace(config, embedding_backend=meta.get("embedding_backend", "torch"))
    backend = chosen_backend(
        config.embedding_model, config.encoder_cache, config.calibration_folder
    )
    return replace(config, embedding_backend=backend)


def open_text(config: IndexConfig) -> tuple[IndexConfig, TextStore]:
    """The text store `config` names, and `config` with the store's index id (a database's)."""
    textdb = open_text_store(config.home, config.database_url)
    return replace(config, index_id=textdb.index_id()), textdb


def open_index(config: IndexConfig, *, model: Embedder | None = None) -> Index:
    """Open (creating if need be) the index that `config` describes. No model is loaded here:
    the first text to embed or measure loads it."""
    config, textdb = open_text(config)
    try:
        config = resolve_backend(config, textdb)
        check_build(textdb, config)
        model = model or load_model(
            config.embedding_model,
            config.embedding_backend,
            cache_dir=config.encoder_cache,
            calibration_folder=config.calibration_folder,
        )
        if model.backend != config.embedding_backend:  # fell back to torch: a different space
            config = replace(config, embedding_backend=model.backend)
            check_build(textdb, config)
        final = config
        index = Index(final, textdb, model, lambda e: _open_chroma(final, textdb, e))
        index.check_vectors()
    except BaseException:
        textdb.close()
        raise
    return index


def followed_folder(home: Path, database_url: str | None = None) -> Path | None:
    """The folder the index follows (the one it was built from; recorded when its first ingest
    began), read from its text store without opening Chroma; None when nothing was ingested
    into the index in `home` (or in the database at `database_url`)."""
    if not database_url and not (home / "sourcebook.sqlite").exists():
        return None
    textdb = open_text_store(home, database_url)
    try:
        folder = textdb.get_meta().get("folder")
    finally:
        textdb.close()
    return Path(folder) if folder else None


def built_config(config: IndexConfig, meta: dict[str, str]) -> IndexConfig:
    """The config an index with these settings was built with."""
    return replace(
        config,
        embedding_model=meta["embedding_model"],
        chunk_tokens=int(meta["chunk_tokens"]),
        chunk_overlap=int(meta["chunk_overlap"]),
        embedding_backend=meta.get("embedding_backend", "torch"),
    )


def delete_index(config: IndexConfig) -> None:
    """Remove an index entirely: its collection (as built, and as now configured), its records
    and its text store."""
    db = config.home / "sourcebook.sqlite"
    if not config.database_url and not db.exists():
        names = {config.collection_name}
    else:
        config, textdb = open_text(config)
        try:
            meta = textdb.get_meta()
            names = {config.collection_name}
            if meta.get("embedding_model"):
                built = built_config(config, meta)
                names.add(built.collection_name)
                if config.database_url:
                    records = make_record_manager(built)
                    records.delete_keys(records.list_keys())
            if config.database_url:
                textdb.clear()
        finally:
            textdb.close()
    client = make_chroma_client(config.chroma_url, str(config.home / "chroma"))
    if config.database_url:  # other servers hold these collections open: empty them, keep them
        for name in names:
            empty_collection(client, name)
    else:
        delete_collections(client, names)
    shutil.rmtree(config.home / KEYWORD_FOLDER, ignore_errors=True)
    for name in ("sourcebook.sqlite", "records.sqlite"):
        for suffix in ("", "-wal", "-shm"):
            path = config.home / (name + suffix)
            if path.exists():
                path.unlink()

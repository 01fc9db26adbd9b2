"""Making the encoder ready on this machine before any ingest or question waits for it."""

from __future__ import annotations

from app.settings import BUNDLED_CORPUS, Settings, get_settings
from store.prepare import Choice


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

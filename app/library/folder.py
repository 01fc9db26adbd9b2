"""The folder an index follows: which it is, ingesting it, the questions its documents answer."""

from __future__ import annotations

import logging
from pathlib import Path

from app.library.handles import forget_open_indexes, index_config
from app.settings import BUNDLED_CORPUS, Settings, get_settings
from ingest import IngestError, IngestReport, Progress, ingest_folder, other_folder
from store import followed_folder as recorded_folder

log = logging.getLogger(__name__)


def followed_folder(settings: Settings | None = None) -> Path:
    """The folder the index follows: the one it was built from, whatever the settings say;
    for a home with no index yet, `settings.folder` (SOURCEBOOK_FOLDER), where it will start."""
    settings = settings or get_settings()
    home = settings.home.expanduser().resolve()
    followed = recorded_folder(home, settings.database_url or None)
    return followed or settings.folder.expanduser().resolve()


def folder_to_ingest(path: Path | None, settings: Settings, *, rebuild: bool = False) -> Path:
    """The folder a command works on: `path`, or (without one) the folder the index follows.
    A folder other than the one the index follows is refused, unless `rebuild` starts anew."""
    home = settings.home.expanduser().resolve()
    followed = recorded_folder(home, settings.database_url or None)
    named = settings.folder.expanduser().resolve()
    if followed and "folder" in settings.model_fields_set and named != followed and not path:
        log.warning(
            "SOURCEBOOK_FOLDER names %s, but the index in %s follows %s (the folder it was "
            "built from), which is used; `sourcebook ingest --rebuild %s` makes it follow %s",
            named, home, followed, named, named,
        )  # fmt: skip
    folder = path.expanduser().resolve() if path else (followed or named)
    if followed and not path and not followed.is_dir():
        raise IngestError(
            f"{followed}, the folder the index in {home} follows, does not exist; if it moved, "
            "run `sourcebook ingest --rebuild NEW-PLACE` to follow it there"
        )
    if followed and folder != followed:
        if not rebuild:
            raise IngestError(other_folder(home, followed, folder))
        log.warning("the index in %s followed %s; it is rebuilt from %s", home, followed, folder)
    return folder


def ingest(
    paths: list[Path] | None = None,
    *,
    rebuild: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index in step with the folder it follows (or with `paths` inside it).

    One folder path outside that folder names the folder for a new index, or with `rebuild`,
    for the index started anew; another folder is refused (`folder_to_ingest`)."""
    settings = settings or get_settings()
    folder = followed_folder(settings)
    whole = None
    if paths and len(paths) == 1 and paths[0].is_dir():
        given = paths[0].expanduser().resolve()
        if given == folder or not given.is_relative_to(folder):
            whole, paths = given, None
    if rebuild or not paths:
        folder = folder_to_ingest(whole, settings, rebuild=rebuild)
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


EXAMPLE_QUESTIONS = [
    "In which city did the 14th forum take place?",
    "Which prime minister visited Tajikistan and Kyrgyzstan?",
    "When did the first Korea-Central Asia high-level officials meeting take place?",
]


def example_questions(settings: Settings | None = None) -> list[str]:
    """Questions the bundled corpus answers, offered on an empty chat; none for other folders."""
    bundled = {p.name for p in BUNDLED_CORPUS.glob("*.txt")}
    folder = followed_folder(settings)
    present = {p.name for p in folder.glob("*.txt")} if folder.is_dir() else set()
    return list(EXAMPLE_QUESTIONS) if bundled and bundled <= present else []

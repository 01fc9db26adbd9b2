"""The index as the app sees it, one module for each thing its callers need.

    handles.py    the index the settings name, opened once; find, warm_up
    folder.py     the folder it follows; ingest; the example questions
    documents.py  documents' text and sections, a span's place, pictures of scanned pages
    status.py     what the index holds, for the CLI, the UI's panel and MCP
    encoder.py    `sourcebook prepare`: exports and the backend chosen by measurement
    migration.py  `sourcebook migrate`: an index in SQLite copied into PostgreSQL and Chroma

Callers import from here (`from app.library import find, document_text`), never a module.
"""

from app.library.documents import (
    document,
    document_text,
    list_sources,
    page_image,
    place_of_span,
)
from app.library.encoder import prepare
from app.library.folder import (
    EXAMPLE_QUESTIONS,
    example_questions,
    folder_to_ingest,
    followed_folder,
    ingest,
)
from app.library.handles import (
    NoIndexError,
    find,
    forget_open_indexes,
    get_index,
    index_config,
    warm_up,
)
from app.library.migration import migrate
from app.library.status import index_status, shown_database

__all__ = [
    "EXAMPLE_QUESTIONS",
    "NoIndexError",
    "document",
    "document_text",
    "example_questions",
    "find",
    "folder_to_ingest",
    "followed_folder",
    "forget_open_indexes",
    "get_index",
    "index_config",
    "index_status",
    "ingest",
    "list_sources",
    "migrate",
    "page_image",
    "place_of_span",
    "prepare",
    "shown_database",
    "warm_up",
]

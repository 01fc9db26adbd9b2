"""Sourcebook: answers from a folder of documents, every claim cited to an exact quote."""

from app.answer import Answer, AnswerError, Citation, answer, stream_answer
from app.library import NoIndexError, find, ingest
from app.settings import Settings, get_settings
from ingest import IngestError, IngestReport
from store import Hit, StoreError

__all__ = [
    "Answer",
    "AnswerError",
    "Citation",
    "Hit",
    "IngestError",
    "IngestReport",
    "NoIndexError",
    "Settings",
    "StoreError",
    "answer",
    "find",
    "get_settings",
    "ingest",
    "stream_answer",
]

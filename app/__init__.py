"""Sourcebook: answers from a folder of documents, every claim cited to an exact quote."""

from app.answering.pipeline import answer, stream_answer
from app.answering.types import Answer, AnswerError, Citation
from app.interfaces.langchain import as_retriever, as_runnable
from app.library import NoIndexError, find, ingest
from app.settings import Settings, get_settings
from ingest import IngestError, IngestReport
from store import Hit, SourcebookError, StoreError

__all__ = [
    "Answer",
    "AnswerError",
    "Citation",
    "Hit",
    "IngestError",
    "IngestReport",
    "NoIndexError",
    "Settings",
    "SourcebookError",
    "StoreError",
    "answer",
    "as_retriever",
    "as_runnable",
    "find",
    "get_settings",
    "ingest",
    "stream_answer",
]

"""Which exceptions are the user's to fix, and the one line that tells them how."""

from __future__ import annotations


def user_message(error: BaseException) -> str | None:
    """A one-line message for an error a user can act on; None for a bug of ours."""
    from pydantic import ValidationError

    from app.answer import AnswerError
    from app.library import UploadError
    from app.llm import LLMSetupError
    from ingest import IngestError, LoadError
    from store import StoreError

    if isinstance(error, StoreError | IngestError | AnswerError | LoadError | UploadError | LLMSetupError):
        return str(error)
    if isinstance(error, ValidationError):
        problems = []
        for item in error.errors():
            name = "SOURCEBOOK_" + "_".join(str(p) for p in item["loc"]).upper()
            problems.append(f"{name}: {item['msg']}")
        return "bad setting: " + "; ".join(problems)
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    return None

"""The one line a user reads for an error: theirs explained, ours left to the caller to log."""

from __future__ import annotations

from pydantic import ValidationError

from store import SourcebookError


def user_message(error: BaseException) -> str | None:
    """A one-line message for an error a user can act on; None for a bug of ours."""
    if isinstance(error, SourcebookError):
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

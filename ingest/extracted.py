"""What every format's loader returns: a document's text, its title, and where its parts begin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Extracted:
    """A document's extracted text. `sections` mark where a page or heading path begins:
    {"start": offset, "page": n} or {"start": offset, "heading": "A > B"}."""

    text: str
    title: str
    sections: list[dict[str, Any]] = field(default_factory=list)


def first_line(text: str, limit: int = 120) -> str:
    """The first line with something to say, as a fallback title."""
    for line in text.splitlines():
        line = line.strip().strip("#").strip()
        if len(line) >= 3:
            return line[:limit]
    return ""

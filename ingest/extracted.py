"""What every format's loader returns: a document's text, its title, and where its parts begin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Extracted:
    """A document's extracted text. `sections` mark, in order of `start`, where a part begins:
    {"start", "page"} (PDF pages and scans; "ocr": True when the text was recognised from the
    page's image), {"start", "heading": "A > B"}, {"start", "slide", "heading": title} (a
    slide; "notes": True where its speaker notes begin), {"start", "sheet", "row"} (a
    spreadsheet or CSV row, numbered as the file numbers it; a sheet's first section also holds
    its "columns")."""

    text: str
    title: str
    sections: list[dict[str, Any]] = field(default_factory=list)


class TextBuilder:
    """A document's text put together piece by piece, recording where each section starts."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.sections: list[dict[str, Any]] = []

    def append(self, piece: str) -> None:
        """Append `piece` as it is."""
        self.parts.append(piece)
        self.length += len(piece)

    def mark(self, **section: Any) -> None:
        """A section (`heading`, `page`, `row`...) starts here."""
        self.sections.append({"start": self.length, **section})

    def add(self, block: str, sep: str = "\n\n", **section: Any) -> None:
        """Append `block` after `sep` (none before the first); `section`, if given, starts at it."""
        if not block:
            return
        if self.length:
            self.append(sep)
        if section:
            self.mark(**section)
        self.append(block)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def build(self, title: str, fallback: bool = True) -> Extracted:
        """The document; without a `title`, its first line (unless not `fallback`: a table's
        first line is a row, and the file's name says more)."""
        text = self.text
        return Extracted(text, title or (first_line(text) if fallback else ""), self.sections)


def first_line(text: str, limit: int = 120) -> str:
    """The first line with something to say, as a fallback title."""
    for line in text.splitlines():
        line = line.strip().strip("#").strip()
        if len(line) >= 3:
            return line[:limit]
    return ""

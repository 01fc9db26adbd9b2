"""Plain text and Markdown: decoded as UTF-8; Markdown's headings give heading paths."""

from __future__ import annotations

import re
from typing import Any

from ingest.errors import LoadError
from ingest.extracted import Extracted, first_line


def decode(data: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped); anything else is refused."""
    if b"\0" in data[:8192]:
        raise LoadError("binary content, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LoadError(
            f"not UTF-8 text (byte {e.start}); save it as UTF-8 and ingest again"
        ) from e


def load_text(data: bytes, stem: str) -> Extracted:
    return Extracted(decode(data), "")  # titled by its file name


HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def load_markdown(data: bytes, stem: str) -> Extracted:
    """Markdown as written; ATX headings outside code fences give each chunk its heading path."""
    text = decode(data)
    fenced = [(m.start(), m.end()) for m in FENCE.finditer(text)]
    path: list[tuple[int, str]] = []
    sections: list[dict[str, Any]] = []
    title = ""
    for m in HEADING.finditer(text):
        if any(a <= m.start() < b for a, b in fenced):
            continue
        level, name = len(m.group(1)), m.group(2).strip()
        path = [p for p in path if p[0] < level] + [(level, name)]
        sections.append({"start": m.start(), "heading": " > ".join(n for _, n in path)})
        if not title and level == 1:
            title = name
    return Extracted(text, title or first_line(text), sections)

"""DOCX: paragraphs and table rows in body order; Heading styles give heading paths."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from ingest.errors import LoadError
from ingest.extracted import Extracted, first_line

MAX_INFLATED_MB = 256  # a DOCX is a zip: its XML can inflate a thousandfold


def load_docx(data: bytes, stem: str) -> Extracted:
    """Paragraphs and table cells in document order; Heading styles give the heading path."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_inflated_size(data, "DOCX")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError(f"cannot read the DOCX ({type(e).__name__}); it may be damaged") from e
    parts: list[str] = []
    sections: list[dict[str, Any]] = []
    path: list[tuple[int, str]] = []
    offset = 0
    for text, level in iter_blocks(document):
        if not text.strip():
            continue
        if level:
            path = [p for p in path if p[0] < level] + [(level, text.strip())]
            sections.append({"start": offset, "heading": " > ".join(n for _, n in path)})
        parts.append(text)
        offset += len(text) + 2
    body = "\n\n".join(parts)
    title = (document.core_properties.title or "").strip()
    return Extracted(body, title or (path[0][1] if path else first_line(body)), sections)


def check_inflated_size(data: bytes, kind: str, limit_mb: float = MAX_INFLATED_MB) -> None:
    """Refuse a zip bomb by the sizes its directory declares, before inflating anything (zipfile
    stops reading a member at its declared size, so a lying directory cannot get past this)."""
    try:
        declared = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, EOFError) as e:
        raise LoadError(f"cannot read the {kind} ({type(e).__name__}); it may be damaged") from e
    if declared > limit_mb * 1e6:
        raise LoadError(f"it inflates to {declared / 1e6:,.0f} MB; the limit is {limit_mb:g} MB")


def iter_blocks(document: Any) -> list[tuple[str, int]]:
    """(text, heading level or 0) for each paragraph and table row, in body order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[tuple[str, int]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            style = (item.style.name if item.style is not None else "") or ""
            m = re.match(r"Heading (\d)", style)
            level = int(m.group(1)) if m else (1 if style == "Title" else 0)
            blocks.append((item.text, level))
        elif isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells))
                blocks.append((" | ".join(c for c in cells if c), 0))
    return blocks

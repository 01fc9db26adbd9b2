"""OpenDocument text (.odt): paragraphs, lists and table rows in body order; outline-level
headings give heading paths."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from ingest.errors import LoadError
from ingest.extracted import Extracted, TextBuilder
from ingest.formats.docx import check_inflated_size

MAX_DEPTH = 50  # lists in lists in sections: a hostile file can nest them without end
TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
# Containers whose children are read in order.
CONTAINERS = {(TEXT_NS, n) for n in ("list", "list-item", "list-header", "section")}


def load_odt(data: bytes, stem: str) -> Extracted:
    from odf import opendocument

    check_inflated_size(data, "ODT")
    try:
        document = opendocument.load(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError(f"cannot read the ODT ({type(e).__name__}); it may be damaged") from e
    builder = TextBuilder()
    path: list[tuple[int, str]] = []
    for text, level in blocks(document.text):
        if level:
            path = [p for p in path if p[0] < level] + [(level, text)]
            builder.add(text, heading=" > ".join(n for _, n in path))
        else:
            builder.add(text)
    return builder.build(meta_title(document) or (path[0][1] if path else ""))


def blocks(node: Any, depth: int = 0) -> list[tuple[str, int]]:
    """(text, heading level or 0) for each heading, paragraph and table row, in body order."""
    from odf import teletype

    if depth > MAX_DEPTH:
        raise LoadError(f"its text is nested more than {MAX_DEPTH} levels deep")
    found: list[tuple[str, int]] = []
    for child in node.childNodes:
        kind = getattr(child, "qname", None)
        if kind == (TEXT_NS, "h"):
            level = str(child.getAttrNS(TEXT_NS, "outline-level") or "1")
            found.append(
                (one_line(teletype.extractText(child)), int(level) if level.isdigit() else 1)
            )
        elif kind == (TEXT_NS, "p"):
            found.append((teletype.extractText(child).strip(), 0))
        elif kind == (TABLE_NS, "table"):
            found += table_rows(child)
        elif kind in CONTAINERS:
            found += blocks(child, depth + 1)
    return [(t, level) for t, level in found if t]


def table_rows(table: Any) -> list[tuple[str, int]]:
    from odf import table as odf_table
    from odf import teletype

    rows = []
    for row in table.getElementsByType(odf_table.TableRow):
        cells = [
            one_line(teletype.extractText(c)) for c in row.getElementsByType(odf_table.TableCell)
        ]
        rows.append((" | ".join(c for c in cells if c), 0))
    return rows


def one_line(text: str) -> str:
    return " ".join(text.split())


def meta_title(document: Any) -> str:
    from odf import dc

    titles = document.meta.getElementsByType(dc.Title)
    return one_line(str(titles[0])) if titles else ""

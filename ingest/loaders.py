"""Turn a file into plain text, with its title and where its pages or headings start."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
# Bounds on what one hostile file can make a parser do (the file-size limit is the pipeline's).
MAX_PDF_PAGES = 5000
MAX_DOCX_INFLATED_MB = 256  # a DOCX is a zip: its XML can inflate a thousandfold
log = logging.getLogger(__name__)


class LoadError(Exception):
    """A file that cannot be ingested; the message says why, for the person who owns it."""


@dataclass(frozen=True)
class Extracted:
    """A document's extracted text. `sections` mark where a page or heading path begins:
    {"start": offset, "page": n} or {"start": offset, "heading": "A > B"}."""

    text: str
    title: str
    sections: list[dict[str, Any]] = field(default_factory=list)


def load(path: Path, data: bytes) -> Extracted:
    """Extract `data`, the bytes of `path`, by the file's type. The title comes from the content
    only (the text is cached by content hash, so a renamed file must not keep an old name)."""
    suffix = path.suffix.lower()
    if suffix in (".txt",):
        extracted = Extracted(decode(data), "")  # titled by its file name
    elif suffix in (".md", ".markdown"):
        extracted = load_markdown(decode(data), path.stem)
    elif suffix in (".html", ".htm"):
        from ingest.html import load_html

        extracted = parse(load_html, "HTML", data, path.stem)
    elif suffix == ".pdf":
        extracted = parse(load_pdf, "PDF", data, path.stem)
    elif suffix == ".docx":
        extracted = parse(load_docx, "DOCX", data, path.stem)
    else:
        raise LoadError(f"unsupported file type {suffix!r}")
    if not extracted.text.strip():
        raise LoadError("no text in it (empty, or a scanned document without a text layer)")
    return extracted


def parse(
    loader: Callable[[bytes, str], Extracted], kind: str, data: bytes, stem: str
) -> Extracted:
    """Run a third-party parser on untrusted bytes. This is an edge: whatever a damaged or
    hostile file makes pypdf, python-docx, lxml or BeautifulSoup raise (fuzzing found
    XMLSyntaxError, AttributeError and RecursionError among others) is the file's problem,
    reported as a LoadError that skips it, never an exception that ends the ingest."""
    try:
        return loader(data, stem)
    except LoadError:
        raise
    except Exception as e:
        log.debug("the %s parser failed", kind, exc_info=True)
        raise LoadError(f"cannot read the {kind} ({type(e).__name__}); it may be damaged") from e


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


HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def load_markdown(text: str, stem: str) -> Extracted:
    """Markdown as written; ATX headings outside code fences give each chunk its heading path."""
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


def first_line(text: str, limit: int = 120) -> str:
    for line in text.splitlines():
        line = line.strip().strip("#").strip()
        if len(line) >= 3:
            return line[:limit]
    return ""


def load_pdf(data: bytes, stem: str) -> Extracted:
    """Each page's text in order, pages apart by a blank line; sections mark where each begins."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is encrypted with a password")
        parts: list[str] = []
        sections: list[dict[str, Any]] = []
        offset = 0
        if len(reader.pages) > MAX_PDF_PAGES:
            raise LoadError(f"it has {len(reader.pages)} pages; the limit is {MAX_PDF_PAGES}")
        for number, page in enumerate(reader.pages, start=1):
            page_text = (page.extract_text() or "").strip()
            if not page_text:
                continue
            if parts:
                parts.append("\n\n")
                offset += 2
            sections.append({"start": offset, "page": number})
            parts.append(page_text)
            offset += len(page_text)
        info = reader.metadata
        title = str(info.title).strip() if info and info.title else ""
    except LoadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise LoadError(f"cannot read the PDF ({type(e).__name__}: {e}); it may be damaged") from e
    text = "".join(parts)
    return Extracted(text, title or first_line(text), sections)


def load_docx(data: bytes, stem: str) -> Extracted:
    """Paragraphs and table cells in document order; Heading styles give the heading path."""
    import io
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_inflated_size(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError(f"cannot read the DOCX ({type(e).__name__}); it may be damaged") from e
    parts: list[str] = []
    sections: list[dict[str, Any]] = []
    path: list[tuple[int, str]] = []
    offset = 0
    for block in iter_docx_blocks(document):
        text, level = block
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


def check_inflated_size(data: bytes) -> None:
    """Refuse a zip bomb by the sizes its directory declares, before inflating anything (zipfile
    stops reading a member at its declared size, so a lying directory cannot get past this)."""
    import io
    import zipfile

    try:
        declared = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, EOFError) as e:
        raise LoadError(f"cannot read the DOCX ({type(e).__name__}); it may be damaged") from e
    if declared > MAX_DOCX_INFLATED_MB * 1e6:
        raise LoadError(
            f"it inflates to {declared / 1e6:,.0f} MB; the limit is {MAX_DOCX_INFLATED_MB} MB"
        )


def iter_docx_blocks(document: Any) -> list[tuple[str, int]]:
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

"""PDF: each page's text layer, pages apart by a blank line, page numbers kept."""

from __future__ import annotations

import io
from typing import Any

from ingest.errors import LoadError
from ingest.extracted import Extracted, first_line

MAX_PDF_PAGES = 5000  # a bound on what one hostile file can make the parser do


def load_pdf(data: bytes, stem: str) -> Extracted:
    """Each page's text in order; sections mark where each page begins."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is encrypted with a password")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise LoadError(f"it has {len(reader.pages)} pages; the limit is {MAX_PDF_PAGES}")
        parts: list[str] = []
        sections: list[dict[str, Any]] = []
        offset = 0
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

"""Turn a file into plain text, with its title and where its pages, slides, rows or headings
start: one module per format, chosen here by the file's suffix."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from ingest.errors import LoadError
from ingest.extracted import Extracted
from ingest.formats.csvfile import load_csv
from ingest.formats.docx import load_docx
from ingest.formats.epub import load_epub
from ingest.formats.html import load_html
from ingest.formats.image import load_image
from ingest.formats.odt import load_odt
from ingest.formats.pdf import load_pdf
from ingest.formats.pptx import load_pptx
from ingest.formats.text import load_markdown, load_text
from ingest.formats.xlsx import load_xlsx

log = logging.getLogger(__name__)

Loader = Callable[[bytes, str], Extracted]
# suffix -> (what the format is called in messages, its loader)
FORMATS: dict[str, tuple[str, Loader]] = {
    ".txt": ("text", load_text),
    ".md": ("Markdown", load_markdown),
    ".markdown": ("Markdown", load_markdown),
    ".html": ("HTML", load_html),
    ".htm": ("HTML", load_html),
    ".pdf": ("PDF", load_pdf),
    ".docx": ("DOCX", load_docx),
    ".odt": ("ODT", load_odt),
    ".epub": ("EPUB", load_epub),
    ".pptx": ("PPTX", load_pptx),
    ".xlsx": ("XLSX", load_xlsx),
    ".csv": ("CSV", load_csv),
    ".png": ("PNG", load_image),
    ".jpg": ("JPEG", load_image),
    ".jpeg": ("JPEG", load_image),
    ".tif": ("TIFF", load_image),
    ".tiff": ("TIFF", load_image),
}
SUPPORTED = tuple(FORMATS)


def load(path: Path, data: bytes) -> Extracted:
    """Extract `data`, the bytes of `path`, by the file's type. The title comes from the content
    only (the text is cached by content hash, so a renamed file must not keep an old name)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise LoadError(f"unsupported file type {suffix!r}")
    kind, loader = FORMATS[suffix]
    extracted = parse(loader, kind, data, path.stem)
    if not extracted.text.strip():
        raise LoadError("no text in it (empty, or images in which OCR found no text)")
    return extracted


PAGE_WIDTH = 900  # pixels: the viewer shows a page about half a screen wide


def page_image(path: Path, data: bytes, page: int) -> bytes:
    """A PNG of page `page` (from 1) of a PDF or an image, PAGE_WIDTH wide at most, grey."""
    import io

    from ingest.formats.image import frame, open_image
    from ingest.formats.pdf import open_pdfium, render_page

    try:
        if path.suffix.lower() == ".pdf":
            document = open_pdfium(data)
            try:
                image = render_page(document, page, PAGE_WIDTH * PAGE_WIDTH * 2)
            finally:
                document.close()
        else:
            image = frame(open_image(data), page).convert("L")
        image.thumbnail((PAGE_WIDTH, PAGE_WIDTH * 2))
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
    except LoadError:
        raise
    except Exception as e:  # an edge, as in parse(): the file's problem, one line
        raise LoadError(f"cannot show page {page} ({type(e).__name__})") from e
    return out.getvalue()


def parse(loader: Loader, kind: str, data: bytes, stem: str) -> Extracted:
    """Run a parser on untrusted bytes. This is an edge: whatever a damaged or hostile file
    makes pypdf, python-docx, lxml or BeautifulSoup raise (fuzzing found XMLSyntaxError,
    AttributeError and RecursionError among others) is the file's problem, reported as a
    LoadError that skips it, never an exception that ends the ingest."""
    try:
        return loader(data, stem)
    except LoadError:
        raise
    except Exception as e:
        log.debug("the %s parser failed", kind, exc_info=True)
        raise LoadError(f"cannot read the {kind} ({type(e).__name__}); it may be damaged") from e

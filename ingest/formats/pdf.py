"""PDF: each page's text layer, pages apart by a blank line, page numbers kept; a page with no
text layer (a scan) is rendered and read by OCR."""

from __future__ import annotations

import io
from typing import Any

from ingest.beat import alive
from ingest.errors import LoadError
from ingest.extracted import Extracted, TextBuilder
from ingest.formats.ocr import OCR_DPI, OCR_PIXELS, recognise

MAX_PDF_PAGES = 5000  # a bound on what one hostile file can make the parser do
MAX_OCR_PAGES = 1000  # ~1.5 hours of OCR on two cores: a scanned book is the most we take


def load_pdf(data: bytes, stem: str) -> Extracted:
    """Each page's text in order; sections mark where each page begins ("ocr": True on the
    pages whose text was recognised from their image)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is encrypted with a password")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise LoadError(f"it has {len(reader.pages)} pages; the limit is {MAX_PDF_PAGES}")
        layers = [(page.extract_text() or "").strip() for page in reader.pages]
        info = reader.metadata
        title = str(info.title).strip() if info and info.title else ""
    except LoadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise LoadError(f"cannot read the PDF ({type(e).__name__}: {e}); it may be damaged") from e
    scanned = read_scanned(data, [n for n, text in enumerate(layers, start=1) if not text])
    builder = TextBuilder()
    for number, text in enumerate(layers, start=1):
        if text:
            builder.add(text, page=number)
        else:
            builder.add(scanned.get(number, ""), page=number, ocr=True)
    return builder.build(title)


def read_scanned(data: bytes, pages: list[int]) -> dict[int, str]:
    """Page number -> text recognised on it, for `pages` (those without a text layer)."""
    if not pages:
        return {}
    if len(pages) > MAX_OCR_PAGES:
        raise LoadError(
            f"{len(pages)} of its pages have no text layer; OCR reads at most {MAX_OCR_PAGES}"
        )
    document = open_pdfium(data)
    try:
        found = {}
        for number in pages:
            found[number] = recognise(render_page(document, number, OCR_PIXELS))
            alive()
        return found
    finally:
        document.close()


def open_pdfium(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise LoadError(f"cannot render the PDF's pages for OCR ({e})") from e


def render_page(document: Any, number: int, pixels: int) -> Any:
    """Page `number` (from 1) as a grey PIL image at OCR_DPI, or smaller to fit in `pixels`."""
    page = document[number - 1]
    try:
        width, height = page.get_size()  # in points, 1/72 inch
        scale = min(OCR_DPI / 72, (pixels / max(width * height, 1.0)) ** 0.5)
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()

"""Build real test documents (PDF, DOCX, HTML, XLSX, PPTX, ODT, EPUB, scans) in code, so no binary
fixtures are committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def make_pdf(pages: list[str]) -> bytes:
    """A minimal, valid PDF with one line of Helvetica text per page."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font_ref = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_ref} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return pdf_file(objects)


def endless_page_pdf(depth: int = 10, fanout: int = 10) -> bytes:
    """A 2 kB PDF whose one page takes about an hour to draw: form XObjects that each draw the
    next one `fanout` times, `depth` deep (10**10 fills; 10**5 take ~0.4 s here)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /XObject << /X 5 0 R >> >> >>",
        b"<< /Length 5 >>\nstream\n/X Do\nendstream",
    ]
    for level in range(depth):
        last = level == depth - 1
        body = b"0 0 10 10 re f" if last else b" ".join([b"/X Do"] * fanout)
        inner = b"" if last else b" /Resources << /XObject << /X %d 0 R >> >>" % (6 + level)
        objects.append(
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842]%s /Length %d >>\nstream\n"
            % (inner, len(body))
            + body
            + b"\nendstream"
        )
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of numbered `objects` (the first is the catalog), with its cross-reference."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def make_docx(path: Path, blocks: list[tuple[str, str]]) -> Path:
    """A DOCX of (style, text) blocks; style "h1".."h3" for headings, "p" for body text."""
    import docx

    document = docx.Document()
    for style, text in blocks:
        if style.startswith("h"):
            document.add_heading(text, level=int(style[1:]))
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path


HTML_PAGE = """<!doctype html><html><head><title>Water Policy</title>
<style>body { color: red }</style><script>var tracking = "SECRET_SCRIPT_TEXT";</script></head>
<body><nav><a href="/">Home</a> | <a href="/menu">NAVIGATION_MENU</a></nav>
<main><h1>Water Policy</h1><p>Rivers feed the <b>Aral Sea</b> basin.</p>
<h2>Dams</h2><p>The Rogun dam is on the Vakhsh river.</p></main>
<footer>FOOTER_TEXT copyright</footer></body></html>"""


def make_xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """An XLSX with one sheet per entry, rows from row 1."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_pptx(slides: list[tuple[str, list[str], str]]) -> bytes:
    """A PPTX of (title, body lines, speaker notes) slides."""
    import io

    import pptx

    deck = pptx.Presentation()
    for title, lines, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
        slide.shapes.title.text = title
        slide.placeholders[1].text_frame.text = "\n".join(lines)
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def make_odt(blocks: list[tuple[str, str]]) -> bytes:
    """An ODT of (style, text) blocks; "h1".."h3" for headings, "p" for body text."""
    import io

    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    for style, text in blocks:
        if style.startswith("h"):
            document.text.addElement(H(outlinelevel=int(style[1:]), text=text))
        else:
            document.text.addElement(P(text=text))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def make_epub(title: str, chapters: list[tuple[str, str]]) -> bytes:
    """An EPUB 3 of (chapter title, paragraph) chapters, with a navigation document."""
    import io
    import zipfile
    from html import escape

    items = "".join(
        f'<item id="c{i}" href="text/c{i}.xhtml" media-type="application/xhtml+xml"/>'
        for i in range(len(chapters))
    )
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    links = "".join(
        f'<li><a href="text/c{i}.xhtml">{escape(name)}</a></li>'
        for i, (name, _) in enumerate(chapters)
    )
    xhtml = '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        book.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{escape(title)}'
            '</dc:title></metadata><manifest><item id="nav" href="nav.xhtml" '
            f'media-type="application/xhtml+xml" properties="nav"/>{items}</manifest>'
            f"<spine>{spine}</spine></package>",
        )
        book.writestr(
            "OEBPS/nav.xhtml",
            f'{xhtml}<body><nav xmlns:epub="http://www.idpf.org/2007/ops" epub:type="toc">'
            f"<ol>{links}</ol></nav></body></html>",
        )
        for i, (name, text) in enumerate(chapters):
            book.writestr(
                f"OEBPS/text/c{i}.xhtml",
                f"{xhtml}<head><title>{escape(name)}</title></head><body>"
                f"<h1>{escape(name)}</h1><p>{escape(text)}</p></body></html>",
            )
    return out.getvalue()


FONTS = Path("/usr/share/fonts/truetype")


def render_text(lines: list[str], font: str = "dejavu/DejaVuSans.ttf", size: int = 42) -> Any:
    """A page (PIL image) with `lines` printed in black on white with a scan's margins, about
    10 pt at 300 dpi. `font` from Debian's fonts-dejavu-core or, for Korean, fonts-nanum
    ("nanum/NanumGothic.ttf")."""
    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype(str(FONTS / font), size)
    step, margin = int(size * 1.6), 100
    width = max(1600, max(int(face.getlength(line)) for line in lines) + 2 * margin)
    page = Image.new("L", (width, step * len(lines) + 2 * margin), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * step), line, font=face, fill=0)
    return page


def image_bytes(image: Any, kind: str) -> bytes:
    """`image` saved as `kind` ("PNG", "JPEG", "TIFF", or "PDF": a scanned PDF, no text layer)."""
    import io

    out = io.BytesIO()
    image.save(out, kind, **({"resolution": 300.0} if kind == "PDF" else {}))
    return out.getvalue()

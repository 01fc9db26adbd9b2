"""Loaders: each format's main text, titles, pages, slides, rows and headings; bad files refused
with a reason."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from ingest import LoadError, load
from ingest.chunking import chunk_document
from tests.documents import (
    HTML_PAGE,
    image_bytes,
    make_docx,
    make_epub,
    make_odt,
    make_pdf,
    make_pptx,
    make_xlsx,
    render_text,
)


def test_text_keeps_content_exactly() -> None:
    doc = load(Path("a.txt"), "Line one.\n\nLine two — ünïcode.\n".encode())
    assert doc.text == "Line one.\n\nLine two — ünïcode.\n"
    assert doc.title == ""  # a text file is titled by its name, at chunking


def test_markdown_headings_give_heading_paths() -> None:
    text = "# Guide\n\nIntro.\n\n## Setup\n\nDo this.\n\n```\n# not a heading\n```\n\n### Deep\n\nMore."
    doc = load(Path("g.md"), text.encode())
    assert doc.title == "Guide"
    headings = [s["heading"] for s in doc.sections]
    assert headings == ["Guide", "Guide > Setup", "Guide > Setup > Deep"]
    assert doc.text[doc.sections[1]["start"] :].startswith("## Setup")


def test_html_keeps_main_text_only() -> None:
    doc = load(Path("p.html"), HTML_PAGE.encode())
    assert "Rivers feed the Aral Sea basin." in doc.text
    assert "The Rogun dam is on the Vakhsh river." in doc.text
    for noise in ("SECRET_SCRIPT_TEXT", "NAVIGATION_MENU", "FOOTER_TEXT", "color: red"):
        assert noise not in doc.text
    assert doc.title == "Water Policy"
    dams = next(s for s in doc.sections if s["heading"] == "Water Policy > Dams")
    assert doc.text[dams["start"] :].startswith("Dams")


def test_an_aside_in_the_text_is_kept_and_one_beside_it_dropped() -> None:
    """Regression (issue 20, bench/html_text.py): Sphinx writes footnotes and side examples as
    <aside> inside its main part, and every <aside> was dropped, code and all."""
    page = (
        "<html><body><main><div role='main'><p>Run the event loop.</p><aside class='sidebar'>"
        "<p>Hello World!</p><pre>asyncio.run(main())</pre></aside><aside class='footnote'>"
        "<p>[1] Since 3.7.</p></aside></div><aside><p>RELATED_LINKS</p></aside></main>"
        "</body></html>"
    )
    text = load(Path("p.html"), page.encode()).text
    assert "```\nasyncio.run(main())\n```" in text and "[1] Since 3.7." in text
    assert "RELATED_LINKS" not in text


def test_pdf_pages_are_numbered() -> None:
    doc = load(Path("r.pdf"), make_pdf(["First page text.", "Second page text."]))
    assert [s["page"] for s in doc.sections] == [1, 2]
    second = doc.sections[1]["start"]
    assert doc.text[second:].startswith("Second page text.")


def test_docx_headings_and_paragraphs(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "d.docx",
        [("h1", "Report"), ("p", "Body one."), ("h2", "Findings"), ("p", "Body two.")],
    )
    doc = load(path, path.read_bytes())
    assert doc.text == "Report\n\nBody one.\n\nFindings\n\nBody two."
    assert [s["heading"] for s in doc.sections] == ["Report", "Report > Findings"]
    assert doc.title == "Report"


def test_xlsx_rows_are_read_with_their_header() -> None:
    data = make_xlsx(
        {
            "Budget": [
                ["Water budget 2019"],  # a caption above the table
                [],
                ["Region", "Year", "Amount", "Approved"],
                ["Almaty", 2019, 1200.0, dt.date(2019, 3, 1)],
                [None, None, None],
                ["Tashkent", 2019, 900.5, None],
            ],
            "Staff": [["Name", "Role"], ["Amina Juma", "Harbour master\nand judge"]],
        }
    )
    doc = load(Path("b.xlsx"), data)
    assert doc.text == (
        "Water budget 2019\n"
        "Region: Almaty; Year: 2019; Amount: 1200; Approved: 2019-03-01.\n"
        "Region: Tashkent; Year: 2019; Amount: 900.5.\n\n"
        "Name: Amina Juma; Role: Harbour master and judge."
    )
    places = [(s.get("sheet"), s["row"]) for s in doc.sections]
    assert places == [("Budget", 1), ("Budget", 4), ("Budget", 6), ("Staff", 2)]
    assert doc.sections[0]["columns"] == ["Region", "Year", "Amount", "Approved"]
    assert doc.text[doc.sections[2]["start"] :].startswith("Region: Tashkent")
    assert doc.title == ""  # a workbook without a title is titled by its file name


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    data = '\ufeffName;Age;Town\nAmina;30;Zanzibar\n"Bo; Jr";41;"Stone\nTown"\nCy;;Paje\n'
    doc = load(Path("p.csv"), data.encode())
    assert doc.text == (
        "Name: Amina; Age: 30; Town: Zanzibar.\n"
        "Name: Bo; Jr; Age: 41; Town: Stone Town.\n"
        "Name: Cy; Town: Paje."
    )
    assert [s["row"] for s in doc.sections] == [2, 3, 4]
    assert doc.sections[0]["columns"] == ["Name", "Age", "Town"]


def test_a_table_without_a_header_names_columns_by_letter() -> None:
    doc = load(Path("n.csv"), b"1,2,3\n4,5,6\n")
    assert doc.text == "A: 1; B: 2; C: 3.\nA: 4; B: 5; C: 6."


def test_chunks_of_a_sheet_know_their_sheet_and_rows() -> None:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    rows = [["Region", "Amount"]] + [[f"Region {i}", i] for i in range(40)]
    doc = load(Path("b.xlsx"), make_xlsx({"Budget": rows}))
    splitter = RecursiveCharacterTextSplitter(chunk_size=200, chunk_overlap=0, separators=["\n"])
    chunks = chunk_document(doc, "b.xlsx", "h", splitter)
    assert len(chunks) > 2
    for chunk in chunks:
        meta = chunk.metadata
        assert meta["sheet"] == meta["heading"] == "Budget"
        first, last = chunk.page_content.splitlines()[0], chunk.page_content.splitlines()[-1]
        assert first == f"Region: Region {meta['row'] - 2}; Amount: {meta['row'] - 2}."
        assert last == f"Region: Region {meta['row_end'] - 2}; Amount: {meta['row_end'] - 2}."


def test_pptx_keeps_slide_numbers_and_speaker_notes() -> None:
    data = make_pptx(
        [
            ("Water plan", ["Rivers feed the Aral Sea.", "Dams store water."], "Mention Rogun."),
            ("Budget", ["1,200 for Almaty"], ""),
        ]
    )
    doc = load(Path("s.pptx"), data)
    assert doc.text == (
        "Water plan\nRivers feed the Aral Sea.\nDams store water.\n\nMention Rogun.\n\n"
        "Budget\n1,200 for Almaty"
    )
    assert [(s["slide"], s["heading"], s.get("notes", False)) for s in doc.sections] == [
        (1, "Water plan", False),
        (1, "Water plan", True),
        (2, "Budget", False),
    ]
    assert doc.text[doc.sections[1]["start"] :].startswith("Mention Rogun.")
    assert doc.title == "Water plan"


def test_odt_headings_and_paragraphs() -> None:
    data = make_odt([("h1", "Report"), ("p", "Body one."), ("h2", "Findings"), ("p", "Body two.")])
    doc = load(Path("d.odt"), data)
    assert doc.text == "Report\n\nBody one.\n\nFindings\n\nBody two."
    assert [s["heading"] for s in doc.sections] == ["Report", "Report > Findings"]
    assert doc.title == "Report"


def test_epub_chapters_are_headings() -> None:
    data = make_epub(
        "Rivers of Asia",
        [("The Aral Sea", "Rivers feed the Aral Sea basin."), ("Dams", "Rogun is on the Vakhsh.")],
    )
    doc = load(Path("b.epub"), data)
    assert doc.text == (
        "The Aral Sea\n\nRivers feed the Aral Sea basin.\n\nDams\n\nRogun is on the Vakhsh."
    )
    assert [s["heading"] for s in doc.sections] == ["The Aral Sea", "Dams"]
    assert doc.text[doc.sections[1]["start"] :].startswith("Dams")
    assert doc.title == "Rivers of Asia"


SCAN = ["The Kestrel Point lighthouse was designed", "by the engineer Marta Olsen in 1874."]


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "TIFF"])
def test_images_are_read_by_ocr(kind: str) -> None:
    doc = load(Path(f"scan.{kind.lower()}"), image_bytes(render_text(SCAN), kind))
    assert doc.text == "\n".join(SCAN)
    assert doc.sections == [{"start": 0, "page": 1, "ocr": True}]


def test_each_page_of_a_tiff_is_a_page() -> None:
    pages = [render_text(["Page one tells of rivers."]), render_text(["Page two tells of dams."])]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    doc = load(Path("two.tiff"), out.getvalue())
    assert doc.text == "Page one tells of rivers.\n\nPage two tells of dams."
    assert [s["page"] for s in doc.sections] == [1, 2]


def test_korean_scan_is_read() -> None:
    lines = ["한국과 중앙아시아 협력 포럼은 2007년부터", "매년 서울에서 개최되고 있다."]
    doc = load(Path("ko.png"), image_bytes(render_text(lines, "nanum/NanumGothic.ttf"), "PNG"))
    assert "매년 서울에서 개최되고 있다." in doc.text  # Korean words kept whole (no stray spaces)


def test_ocr_runs_only_on_pdf_pages_without_a_text_layer() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (make_pdf(["A typed page about rivers."]), image_bytes(render_text(SCAN), "PDF")):
        writer.add_page(PdfReader(io.BytesIO(data)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    doc = load(Path("mixed.pdf"), out.getvalue())
    assert doc.text == "A typed page about rivers.\n\n" + "\n".join(SCAN)
    assert doc.sections == [{"start": 0, "page": 1}, {"start": 28, "page": 2, "ocr": True}]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bin.txt", b"\x00\x01\x02binary", "binary"),
        ("latin.txt", "café".encode("latin-1"), "not UTF-8"),
        ("empty.md", b"   \n\n", "no text"),
        ("broken.pdf", make_pdf(["Some text"])[:120], "PDF"),
        ("junk.pdf", b"%PDF-1.4 garbage garbage", "PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "DOCX"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "XLSX"),
        ("broken.pptx", b"PK\x03\x04 not really a zip", "PPTX"),
        ("broken.odt", b"PK\x03\x04 not really a zip", "ODT"),
        ("broken.epub", b"PK\x03\x04 not really a zip", "EPUB"),
        ("latin.csv", "café;1".encode("latin-1"), "not UTF-8"),
        ("empty.csv", b"\n\n", "no text"),
        ("fake.png", b"\x89PNG\r\n\x1a\n not an image", "image"),
        ("blank.png", image_bytes(render_text([" "]), "PNG"), "no text was recognised"),
        ("x.xyz", b"data", "unsupported"),
    ],
)
def test_bad_files_are_refused_with_a_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(LoadError, match=reason):
        load(Path(name), data)

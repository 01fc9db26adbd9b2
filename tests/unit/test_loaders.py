"""Loaders: each format's main text, titles, pages and headings; bad files refused with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import LoadError, load
from tests.documents import HTML_PAGE, make_docx, make_pdf


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


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bin.txt", b"\x00\x01\x02binary", "binary"),
        ("latin.txt", "café".encode("latin-1"), "not UTF-8"),
        ("empty.md", b"   \n\n", "no text"),
        ("broken.pdf", make_pdf(["Some text"])[:120], "PDF"),
        ("junk.pdf", b"%PDF-1.4 garbage garbage", "PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "DOCX"),
        ("x.xyz", b"data", "unsupported"),
    ],
)
def test_bad_files_are_refused_with_a_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(LoadError, match=reason):
        load(Path(name), data)

"""The viewer opens a source where it came from: a row in its table, a slide, a scanned page;
the quote highlighted, every piece of document text escaped."""

from __future__ import annotations

import re
from pathlib import Path

from app.interfaces.viewer import cells, document_view, scanned_page
from ingest import load
from store import StoredText
from tests.documents import make_pptx, make_xlsx


def stored(name: str, data: bytes) -> StoredText:
    doc = load(Path(name), data)
    return StoredText("h", doc.text, doc.title, doc.sections)


def marks(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


def test_a_cited_row_shows_in_its_table_with_its_header_and_neighbours() -> None:
    rows = [["Reservoir", "River", "Capacity"]] + [[f"Lake {i}", "Naryn", i] for i in range(20)]
    doc = stored("r.xlsx", make_xlsx({"Reservoirs": rows}))
    start = doc.text.index("Reservoir: Lake 10;")
    end = doc.text.index("\n", start)
    html = document_view(doc, "r.xlsx", start + len("Reservoir: "), end)
    assert "<th>Reservoir</th><th>River</th><th>Capacity</th>" in html
    cited = re.findall(r'<tr class="sb-cited"><th>(\d+)</th>', html)
    assert cited == ["12"]  # Lake 10 is on row 12: the header is row 1
    shown = [int(n) for n in re.findall(r"<tr(?: class=\"sb-cited\")?><th>(\d+)</th>", html)]
    assert shown == list(range(9, 16))  # three neighbours on each side
    assert marks(html) == ["Lake 10", "Naryn", "10"]
    assert "sheet Reservoirs, row 12" in html


def test_cells_are_found_by_their_header_names() -> None:
    line = "Name: Bo; Jr; Age: 41; Town: Stone Town."
    spans = cells(line, ["Name", "Age", "Town"])
    assert spans is not None
    assert {c: line[a:b] for c, (a, b) in spans.items()} == {
        0: "Bo; Jr",
        1: "41",
        2: "Stone Town",
    }
    assert cells("Water budget 2019", ["Name", "Age"]) is None  # a caption


def test_a_slide_shows_its_title_text_and_notes() -> None:
    deck = make_pptx(
        [
            ("Harbour plan", ["Dredging starts in May."], "Say the pilot boat is new."),
            ("Budget", ["Two cranes."], ""),
        ]
    )
    doc = stored("d.pptx", deck)
    start = doc.text.index("the pilot boat")
    html = document_view(doc, "d.pptx", start, start + len("the pilot boat"))
    assert "slide 1 of 2" in html
    assert '<div class="sb-slide-title">Harbour plan</div>' in html
    assert "Dredging starts in May." in html and "Speaker notes" in html
    assert marks(html) == ["the pilot boat"]
    assert "Two cranes" not in html  # only the cited slide


def test_a_scanned_page_shows_its_text_and_picture() -> None:
    text = "Ferry to Pemba leaves at 07:30."
    doc = StoredText("h", text, "", [{"start": 0, "page": 1, "ocr": True}])
    assert scanned_page(doc, 5) == 1
    html = document_view(doc, "t.png", 9, 14, image=b"\x89PNG fake")
    assert 'src="data:image/png;base64,iVBORyBmYWtl"' in html
    assert marks(html) == ["Pemba"]
    assert "recognised by OCR" in html


def test_document_text_in_every_view_is_escaped() -> None:
    evil = "<img src=x onerror=alert(1)>"
    doc = stored("e.xlsx", make_xlsx({"S": [["Name", "Note"], ["A", evil]]}))
    html = document_view(doc, "e.xlsx", 0, 5)
    assert "<img" not in html and "&#60;img" in html
    scan = StoredText("h", evil, "", [{"start": 0, "page": 1, "ocr": True}])
    assert "<img src=x" not in document_view(scan, "s.png", 0, 3)
    assert scanned_page(StoredText("h", "plain", "", []), 0) is None

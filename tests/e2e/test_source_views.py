"""Sources open where they came from, in a real browser: a spreadsheet row in its table, a slide
as its slide with its notes, a scanned page as its recognised text beside the page's picture."""

from __future__ import annotations

import pytest

from tests.e2e.chat import ask, shoot

pytestmark = pytest.mark.e2e


def open_source(page, question: str, source: str):  # type: ignore[no-untyped-def]
    """Ask `question`, open the cited source `source`; the viewer."""
    reply = ask(page, question)
    reply.locator("li.sb-source", has_text=source).first.locator("a.sb-open").click()
    viewer = page.locator("#sb-viewer")
    viewer.locator(".sb-doc-head", has_text=source).wait_for()
    return viewer


def test_a_spreadsheet_row_opens_in_its_table(page) -> None:  # type: ignore[no-untyped-def]
    viewer = open_source(page, "Who is the keeper of the Veshnor reservoir?", "reservoirs.xlsx")
    table = viewer.locator("table.sb-table")
    assert table.locator("thead th").all_inner_texts() == [
        "Row",
        "Reservoir",
        "River",
        "Capacity (million m3)",
        "Keeper",
    ]
    cited = table.locator("tr.sb-cited")
    assert cited.count() == 1
    assert cited.locator("th").inner_text() == "4"  # as the spreadsheet numbers it
    assert "Tomas Keel" in cited.locator("mark").all_inner_texts()
    assert table.locator("tbody tr").count() == 4  # the neighbours around it
    assert "sheet Reservoirs, row 4" in viewer.locator(".sb-doc-head").inner_text()
    shoot(page, "source-spreadsheet-row")


def test_a_slide_opens_as_its_slide_with_its_notes(page) -> None:  # type: ignore[no-untyped-def]
    viewer = open_source(page, "Where is the dredger Orca Maru chartered from?", "harbour.pptx")
    slide = viewer.locator(".sb-slide")
    assert slide.locator(".sb-slide-title").inner_text() == "Dredging the Lindqvist channel"
    assert "Dredging of the Lindqvist channel starts in May." in slide.inner_text()
    notes = slide.locator(".sb-notes")
    assert notes.locator(".sb-label").text_content() == "Speaker notes"
    assert "Rotterdam" in notes.locator("mark").inner_text()
    assert "slide 2 of 2" in viewer.locator(".sb-doc-head").inner_text()
    assert "Quay walls" not in slide.inner_text()  # slide 1 is not shown
    shoot(page, "source-slide")


def test_a_scanned_page_opens_beside_its_picture(page) -> None:  # type: ignore[no-untyped-def]
    viewer = open_source(
        page, "When did the Brisk Hollow mill grind its last wheat?", "mill-scan.pdf"
    )
    scan = viewer.locator(".sb-scan")
    assert "1958" in scan.locator(".sb-ocr-text mark").inner_text()
    picture = scan.locator("img.sb-page-image")
    picture.wait_for()
    assert picture.evaluate("i => i.complete && i.naturalWidth > 100")  # the page, decoded
    assert picture.get_attribute("src").startswith("data:image/png;base64,")
    assert "recognised by OCR" in viewer.locator(".sb-doc-head").inner_text()
    shoot(page, "source-scanned-page")

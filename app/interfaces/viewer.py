"""The document viewer's HTML: a source opens where it came from. A spreadsheet or CSV row shows
in its table (header, the cited rows, their neighbours), a slide as its slide (title, text,
speaker notes), a scanned page as its recognised text beside a picture of the page; anything
else as its whole text. The quote is highlighted in each; every piece of text is escaped."""

from __future__ import annotations

import base64
import re
from bisect import bisect_right
from typing import Any

from app.answering.serialize import rows_place
from app.interfaces.render import copy_button, document_html, escape, escape_name
from store import SourcebookError, StoredText

NEIGHBOURS = 3  # rows shown above and below the cited ones
MAX_CITED_ROWS = 30
Section = dict[str, Any]


class LinkError(SourcebookError):
    """A link to a document that does not say where in it (made by hand, not by an answer)."""


def span_of(data: dict[str, Any]) -> tuple[int, int]:
    """The (start, end) a viewer click asks for; a LinkError if they are not whole numbers."""
    try:
        return int(data.get("start", 0)), int(data.get("end", 0))
    except (TypeError, ValueError, OverflowError) as e:
        raise LinkError(
            "that link does not point into a document: its start and end are not numbers"
        ) from e


def document_view(
    stored: StoredText, source: str, start: int, end: int, image: bytes | None = None
) -> str:
    """The view that fits the section the span [start:end] starts in."""
    text, sections = stored.text, stored.sections
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    at = bisect_right([s["start"] for s in sections], start) - 1
    section = sections[at] if at >= 0 else {}
    if "row" in section:
        return table_view(stored, source, at, start, end)
    if "slide" in section:
        return slide_view(stored, source, section["slide"], start, end)
    if section.get("ocr"):
        return scan_view(stored, source, at, start, end, image)
    return document_html(stored.title, source, text, start, end)


def scanned_page(stored: StoredText, start: int) -> int | None:
    """The page number if `start` lies on a page read by OCR (a picture of it can be shown)."""
    at = bisect_right([s["start"] for s in stored.sections], start) - 1
    section = stored.sections[at] if at >= 0 else {}
    return int(section["page"]) if section.get("ocr") and "page" in section else None


def head(stored: StoredText, source: str, where: str, copy: bool = True) -> str:
    return (
        f'<div class="sb-doc-head"><strong>{escape_name(stored.title or source)}</strong>'
        f'<span class="sb-meta">{escape_name(source)} · {escape(where)}</span>'
        f"{copy_button('mark', 'Copy quote') if copy else ''}</div>"
    )


def marked(text: str, a: int, b: int, start: int, end: int) -> str:
    """text[a:b] escaped, with its overlap with the quote [start:end] in a <mark> (the page
    script scrolls the first mark into view)."""
    lo, hi = max(a, min(start, b)), min(b, max(end, a))
    if lo >= hi:
        return escape(text[a:b])
    return f"{escape(text[a:lo])}<mark>{escape(text[lo:hi])}</mark>{escape(text[hi:b])}"


def extent(stored: StoredText, i: int) -> tuple[int, int]:
    """(start, end) of section `i`'s text, trailing line breaks left out."""
    sections, text = stored.sections, stored.text
    a = sections[i]["start"]
    b = sections[i + 1]["start"] if i + 1 < len(sections) else len(text)
    while b > a and text[b - 1] == "\n":
        b -= 1
    return a, b


# -- a row in its table


def table_rows(sections: list[Section], at: int) -> tuple[int, int]:
    """The first and one-past-last section of the table that section `at` belongs to."""
    first = at
    while first > 0 and "columns" not in sections[first] and "row" in sections[first - 1]:
        first -= 1
    last = at + 1
    while last < len(sections) and "row" in sections[last] and "columns" not in sections[last]:
        last += 1
    return first, last


def cells(line: str, columns: list[str]) -> dict[int, tuple[int, int]] | None:
    """Column index -> (start, end) of its value in a "Name: value; Name: value" line; None
    for a line that is not one (a caption). Columns beyond the header are named by letter."""
    names = [*columns, *(letter(i) for i in range(len(columns), len(columns) + 64))]
    by_name: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        by_name.setdefault(name, []).append(i)
    alternatives = "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
    found: list[tuple[int, int, int]] = []  # (column, where its name starts, its value starts)
    for m in re.finditer(f"(?:^|; )({alternatives}): ", line):
        later = [i for i in by_name[m.group(1)] if not found or i > found[-1][0]]
        if later and (found or m.start() == 0):
            found.append((later[0], m.start(), m.end()))
    if not found:
        return None
    spans = {}
    for n, (column, _, value) in enumerate(found):
        # the last value runs to the row's end, less the full stop that ends every row
        stop = found[n + 1][1] if n + 1 < len(found) else len(line) - line.endswith(".")
        spans[column] = (value, stop)
    return spans


def letter(index: int) -> str:
    name, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def table_view(stored: StoredText, source: str, at: int, start: int, end: int) -> str:
    sections, text = stored.sections, stored.text
    first, last = table_rows(sections, at)
    columns = list(sections[first].get("columns") or [])
    cited = [i for i in range(at, last) if i == at or sections[i]["start"] < end]
    cited = cited[:MAX_CITED_ROWS]
    shown = range(max(first, cited[0] - NEIGHBOURS), min(last, cited[-1] + NEIGHBOURS + 1))
    parsed = {i: cells(text[slice(*extent(stored, i))], columns) for i in shown}
    width = max([len(columns)] + [max(c) + 1 for c in parsed.values() if c])
    names = [*columns, *(letter(i) for i in range(len(columns), width))]
    header = "".join(f"<th>{escape(n)}</th>" for n in names)
    rows = [table_row(stored, i, parsed[i], width, start, end, i in cited) for i in shown]
    sheet = sections[at].get("sheet")
    numbers = [sections[i]["row"] for i in cited]
    return (
        head(stored, source, rows_place(sheet, numbers[0], numbers[-1]), copy=False)
        + '<div class="sb-table-wrap"><table class="sb-table"><thead><tr><th>Row</th>'
        + f"{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def table_row(
    stored: StoredText,
    i: int,
    spans: dict[int, tuple[int, int]] | None,
    width: int,
    start: int,
    end: int,
    cited: bool,
) -> str:
    a, b = extent(stored, i)
    text, number = stored.text, stored.sections[i]["row"]
    css = ' class="sb-cited"' if cited else ""
    if spans is None:  # a caption line
        body = f'<td colspan="{width}">{marked(text, a, b, start, end)}</td>'
    else:
        body = "".join(
            f"<td>{marked(text, a + spans[c][0], a + spans[c][1], start, end)}</td>"
            if c in spans
            else "<td></td>"
            for c in range(width)
        )
    return f"<tr{css}><th>{number}</th>{body}</tr>"


# -- a slide


def slide_view(stored: StoredText, source: str, number: int, start: int, end: int) -> str:
    sections, text = stored.sections, stored.text
    parts = [i for i, s in enumerate(sections) if s.get("slide") == number]
    slides = max((s.get("slide", 0) for s in sections), default=number)
    shown = []
    for i in parts:
        a, b = extent(stored, i)
        if sections[i].get("notes"):
            shown.append(
                '<div class="sb-notes"><div class="sb-label">Speaker notes</div>'
                f'<div class="sb-doc">{marked(text, a, b, start, end)}</div></div>'
            )
            continue
        title = str(sections[i].get("heading", ""))
        cut = a + len(title) if text.startswith(title, a) and title else a  # its first line
        shown.append(
            f'<div class="sb-slide-title">{marked(text, a, cut, start, end)}</div>'
            f'<div class="sb-doc">{marked(text, cut, b, start, end).lstrip()}</div>'
        )
    return head(stored, source, f"slide {number} of {slides}") + (
        f'<div class="sb-slide">{"".join(shown)}</div>'
    )


# -- a scanned page


def scan_view(
    stored: StoredText, source: str, at: int, start: int, end: int, image: bytes | None
) -> str:
    page = stored.sections[at]["page"]
    a, b = extent(stored, at)
    picture = ""
    if image:
        data = base64.b64encode(image).decode("ascii")
        picture = (
            f'<img class="sb-page-image" alt="page {int(page)} as scanned" '
            f'src="data:image/png;base64,{data}">'
        )
    return (
        head(stored, source, f"p. {page}, text recognised by OCR")
        + f'<div class="sb-scan">{picture}'
        + f'<div class="sb-doc sb-ocr-text">{marked(stored.text, a, b, start, end)}</div></div>'
    )

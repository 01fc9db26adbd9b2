"""Tables as text, shared by spreadsheets and CSV: each row read with its header, as
"Header: value; Header: value.", so a cell is never cut off from what it means.

A row ends with a full stop (unless its last value ends a sentence already): a row is a
statement, and sentence splitters (the answerer's among them) then keep each row apart instead
of joining a few short ones into one "sentence" as they would lines of a byline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ingest.errors import LoadError
from ingest.extracted import TextBuilder

# Bounds on what one file can make us hold: a row becomes a line of text and a section.
MAX_ROWS = 200_000
MAX_CELLS = 2_000_000
MAX_CELL_CHARS = 10_000


def cell_text(value: Any) -> str:
    """A cell's value as a person would read it, on one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())[:MAX_CELL_CHARS]


def column_letter(index: int) -> str:
    """A, B, ..., Z, AA, ... for 0, 1, ..."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def looks_like_header(cells: list[str]) -> bool:
    """A row of two or more names: text cells, none a number."""
    filled = [c for c in cells if c]
    return len(filled) >= 2 and not any(is_number(c) for c in filled)


class Table:
    """Writes the rows of one or more tables into a TextBuilder, counting against the limits.

    A table's first row of names is its header; rows before it that hold a single cell (a
    caption, a title) are kept as plain lines. Without a header, columns are named by letter."""

    def __init__(self, builder: TextBuilder) -> None:
        self.builder = builder
        self.rows = 0
        self.cells = 0

    def add(self, rows: Iterable[tuple[int, list[Any]]], sheet: str | None = None) -> None:
        """Write one table: `rows` of (row number as the file numbers it, cell values)."""
        columns: list[str] | None = None
        head: dict[str, Any] | None = None  # the table's first section, which names its columns
        in_data = False  # a header is looked for only above the data
        place: dict[str, Any] = {"sheet": sheet} if sheet is not None else {}
        for number, values in rows:
            cells = [cell_text(v) for v in values]
            while cells and not cells[-1]:
                cells.pop()
            if not cells:
                continue
            self._count(len(cells))
            filled = [c for c in cells if c]
            if not in_data and columns is None and looks_like_header(cells):
                columns = [c or column_letter(i) for i, c in enumerate(cells)]
                continue
            if not in_data and columns is None and len(filled) == 1:
                line = filled[0]  # a caption above the table
            else:
                in_data = True
                line = "; ".join(f"{self._name(columns, i)}: {c}" for i, c in enumerate(cells) if c)
                line += "" if line.endswith((".", "!", "?")) else "."
            self.builder.add(line, "\n" if head else "\n\n", **place, row=number)
            head = head or self.builder.sections[-1]
        if head is not None:
            head["columns"] = columns or []

    @staticmethod
    def _name(columns: list[str] | None, i: int) -> str:
        return columns[i] if columns and i < len(columns) else column_letter(i)

    def _count(self, cells: int) -> None:
        self.rows += 1
        self.cells += cells
        if self.rows > MAX_ROWS:
            raise LoadError(f"it has more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,}")
        if self.cells > MAX_CELLS:
            raise LoadError(f"it has more than {MAX_CELLS:,} cells; the limit is {MAX_CELLS:,}")

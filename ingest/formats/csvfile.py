"""CSV (and other delimited text): each row read with its header, numbered as in a spreadsheet."""

from __future__ import annotations

import csv
import io

from ingest.errors import LoadError
from ingest.extracted import Extracted, TextBuilder
from ingest.formats.table import MAX_CELL_CHARS, Table
from ingest.formats.text import decode

DELIMITERS = ",;\t|"


def load_csv(data: bytes, stem: str) -> Extracted:
    """Rows as "Header: value; Header: value" lines; each row's number is kept (the header is
    row 1, as a spreadsheet shows the file)."""
    text = decode(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:65536], delimiters=DELIMITERS
        )
    except csv.Error:
        dialect = csv.excel  # one column, or nothing to tell: commas
    # A field longer than this is not a table's cell; the csv module refuses it (csv.Error).
    csv.field_size_limit(MAX_CELL_CHARS * 10)
    builder = TextBuilder()
    try:
        rows = csv.reader(io.StringIO(text, newline=""), dialect)
        Table(builder).add((n, row) for n, row in enumerate(rows, start=1))
    except csv.Error as e:
        raise LoadError(f"cannot read the CSV ({e})") from e
    return builder.build("", fallback=False)  # titled by its file name

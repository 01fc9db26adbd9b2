"""Excel workbooks (.xlsx): every sheet's rows read with their header; sheet and row kept."""

from __future__ import annotations

import io
import zipfile

from ingest.errors import LoadError
from ingest.extracted import Extracted, TextBuilder
from ingest.formats.docx import check_inflated_size
from ingest.formats.table import Table

MAX_SHEETS = 1000


def load_xlsx(data: bytes, stem: str) -> Extracted:
    """Each worksheet in order, its rows as "Header: value; ..." lines; formulas give the value
    the workbook last computed. Sections name the sheet and the row as Excel numbers it."""
    import openpyxl  # with defusedxml installed, it parses the XML with entity expansion off
    from openpyxl.utils.exceptions import InvalidFileException

    check_inflated_size(data, "XLSX")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError) as e:
        raise LoadError(f"cannot read the XLSX ({type(e).__name__}); it may be damaged") from e
    try:
        if len(book.worksheets) > MAX_SHEETS:
            raise LoadError(f"it has {len(book.worksheets)} sheets; the limit is {MAX_SHEETS}")
        builder = TextBuilder()
        table = Table(builder)
        for sheet in book.worksheets:
            # The stored dimensions can claim a million rows; read only the rows that exist.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(values_only=True)
            table.add(((n, list(values)) for n, values in enumerate(rows, start=1)), sheet.title)
        title = (book.properties.title or "").strip()
    finally:
        book.close()
    return builder.build(title, fallback=False)

"""A parse that runs past its time bound is stopped and the file skipped; parsing goes on after."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.bounded import load_bounded
from ingest.loaders import LoadError
from tests.documents import HTML_PAGE, make_pdf


def test_a_parse_past_its_bound_is_stopped_and_the_next_one_works() -> None:
    pdf = make_pdf(["Page one."] * 50)
    with pytest.raises(LoadError, match="took longer than"):
        load_bounded(Path("slow.pdf"), pdf, seconds=0.001)  # not even the worker starts so fast
    doc = load_bounded(Path("page.html"), HTML_PAGE.encode(), seconds=60)
    assert "Rivers feed the Aral Sea basin." in doc.text


def test_errors_inside_the_worker_come_back_as_load_errors() -> None:
    with pytest.raises(LoadError, match="PDF"):
        load_bounded(Path("junk.pdf"), b"%PDF-1.4 garbage", seconds=60)

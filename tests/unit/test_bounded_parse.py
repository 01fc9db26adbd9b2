"""A parse that runs past its time bound is stopped and the file skipped; parsing goes on after."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingest import LoadError
from ingest.bounded import call_bounded, load_bounded
from tests.documents import HTML_PAGE


def test_a_parse_past_its_bound_is_stopped_and_the_next_one_works() -> None:
    # A parser that never returns (here: one that sleeps for an hour) is stopped at the bound.
    with pytest.raises(LoadError, match="took longer than"):
        call_bounded(time.sleep, 3600, seconds=1, what="stuck.pdf")
    doc = load_bounded(Path("page.html"), HTML_PAGE.encode(), seconds=60)
    assert "Rivers feed the Aral Sea basin." in doc.text


def test_errors_inside_the_worker_come_back_as_load_errors() -> None:
    with pytest.raises(LoadError, match="PDF"):
        load_bounded(Path("junk.pdf"), b"%PDF-1.4 garbage", seconds=60)


def beat_for(seconds: float) -> str:
    """A parse that takes `seconds` but shows progress all along (as OCR does page by page)."""
    from ingest.beat import alive

    for _ in range(int(seconds * 10)):
        time.sleep(0.1)
        alive()
    return "done"


def test_a_parse_that_shows_progress_outlives_the_bound() -> None:
    # 4 s of work against a 3 s bound: the bound is on time without progress.
    assert call_bounded(beat_for, 4.0, seconds=3, what="long-scan.pdf") == "done"


def rest(seconds: float) -> str:
    """A parse that takes `seconds` and shows no progress until it returns."""
    time.sleep(seconds)
    return "parsed"


def test_a_call_past_its_bound_stops_only_its_own_worker() -> None:
    # Issue 19: one shared worker and one shared clock; a page picture that timed out stopped
    # the pool, and a concurrent ingest's parse died with it (reported as a malformed file).
    with ThreadPoolExecutor(2) as calls:
        parse = calls.submit(call_bounded, rest, 3.0, seconds=30, what="report.docx")
        picture = calls.submit(call_bounded, time.sleep, 3600, seconds=1, what="scan.pdf")
        with pytest.raises(LoadError, match="took longer than 1 s"):
            picture.result()
        assert parse.result() == "parsed"
    doc = load_bounded(Path("page.html"), HTML_PAGE.encode(), seconds=60)  # and parsing goes on
    assert "Rivers feed the Aral Sea basin." in doc.text

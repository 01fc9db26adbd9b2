"""A real folder with one file of every format: ingested, then asked a question whose answer
sits in each; every citation names the right source, its place, and exact offsets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app import answer
from app.library import document_text, ingest, page_image
from app.settings import Settings
from tests.mixed import FACTS, Fact, write_mixed_folder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("mixed")
    write_mixed_folder(root / "docs")
    settings = Settings(home=root / "home", folder=root / "docs")
    return settings, ingest(settings=settings)


def test_every_format_is_ingested(mixed: Any) -> None:
    _, report = mixed
    assert report.skipped == []
    assert report.added == len(FACTS) and report.ignored == 0


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f.source)
def test_each_format_answers_with_its_source_place_and_exact_offsets(
    mixed: Any, fact: Fact
) -> None:
    settings, _ = mixed
    a = answer(fact.question, settings=settings)
    assert a.answered, a.text
    for c in a.citations:
        assert document_text(c.source, settings)[1][c.start : c.end] == c.quote
    cited = [c for c in a.citations if c.source == fact.source and fact.answer in c.quote]
    assert cited, [(c.source, c.quote) for c in a.citations]
    assert fact.answer in a.text
    for key, value in fact.place.items():
        assert getattr(cited[0], key) == value, (key, cited[0])


def test_scanned_pages_have_a_picture_while_the_file_is_unchanged(mixed: Any) -> None:
    settings, _ = mixed
    for source in ("mill-scan.pdf", "toll-sign.png", "lamp.tiff"):
        picture = page_image(source, 1, settings)
        assert picture is not None and picture.startswith(b"\x89PNG"), source
    edited = Path(settings.folder) / "crossing.jpg"
    edited.write_bytes(edited.read_bytes() + b"\0")  # no longer what was indexed
    assert page_image("crossing.jpg", 1, settings) is None

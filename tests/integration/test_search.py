"""Hybrid search and the CLI around it, over the default corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.library import find, ingest

pytestmark = pytest.mark.integration


def test_search_finds_the_passage_with_exact_offsets(store_mode: str, make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    ingest(settings=settings)
    hits = find("Where was the 14th forum held?", k=5, settings=settings)
    assert hits[0].source == "14th-central-asia-rok-cooperation-forum-dushanbe.txt"
    text = (settings.folder / hits[0].source).read_text()
    for hit in hits:
        doc = (settings.folder / hit.source).read_text()
        assert doc[hit.start : hit.end] == hit.text
    assert any("Dushanbe" in h.text for h in hits[:2])
    assert "Dushanbe" in text  # the best passage's document really holds the answer


def test_keyword_half_finds_a_rare_exact_term(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    ingest(settings=settings)
    hits = find("Lee Nak-yon", k=3, settings=settings)
    assert "Lee Nak-yon" in hits[0].text


def test_filter_by_source(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    ingest(settings=settings)
    only = "kiep-25-years-of-korea-central-asia-relations.txt"
    hits = find("cooperation forum", k=5, sources=[only], settings=settings)
    assert hits and {h.source for h in hits} == {only}


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.interfaces.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_ingest_search_json_and_clear_errors(tmp_path, docs_folder) -> None:  # type: ignore[no-untyped-def]
    env = {"SOURCEBOOK_HOME": str(tmp_path / "home"), "SOURCEBOOK_FOLDER": str(docs_folder)}
    missing = run_cli("search", "forum", env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"sourcebook: error: no index in {tmp_path / 'home'}; run `sourcebook ingest` first"
    ]
    (docs_folder / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    first = run_cli("ingest", env=env)
    assert first.returncode == 3, first.stderr  # some files were skipped
    assert "5 added" in first.stdout
    assert "skipped bad.pdf" in first.stderr and "Traceback" not in first.stderr
    found = run_cli("search", "Kang Kyung-wha", "-k", "2", "--json", env=env)
    rows = json.loads(found.stdout)
    assert len(rows) == 2 and "Kang Kyung-wha" in rows[0]["text"]
    assert {"source", "start", "end", "score", "text"} <= set(rows[0])
    bad = run_cli("search", "x", env={**env, "SOURCEBOOK_TOP_K": "many"})
    assert (
        bad.returncode == 1 and "SOURCEBOOK_TOP_K" in bad.stderr and "Traceback" not in bad.stderr
    )
    nowhere = run_cli("ingest", str(tmp_path / "nope"), env=env)
    assert nowhere.returncode == 1 and "does not exist" in nowhere.stderr

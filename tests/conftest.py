"""Shared fixtures: the real embedding model, real Chroma (on disk and a server on loopback)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import CORPUS, Postgres, drop_database, free_port, new_database, start_chroma

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` on loopback: the one .ci/test started, or one of our own."""
    url = os.environ.get("SOURCEBOOK_TEST_CHROMA_URL")
    if url:
        yield url
        return
    port = free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL on loopback (an administrator's URL): the one .ci/test started
    (SOURCEBOOK_TEST_DATABASE_URL), or Debian's, started here in a temporary folder."""
    url = os.environ.get("SOURCEBOOK_TEST_DATABASE_URL")
    if url:
        yield url
        return
    server = Postgres().start()
    yield server.url
    server.remove()


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    """A new, empty database of this test's own."""
    url = new_database(postgres_url)
    yield url
    drop_database(postgres_url, url)


@pytest.fixture(params=["disk", "server"])
def store_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_settings(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Settings for an index in tmp_path; on the Chroma server when the test's store_mode says so."""
    from app.settings import Settings

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {"home": tmp_path / "home", "folder": CORPUS}
        if (
            "store_mode" in request.fixturenames
            and request.getfixturevalue("store_mode") == "server"
        ):
            values["chroma_url"] = request.getfixturevalue("chroma_url")
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def docs_folder(tmp_path: Path) -> Path:
    """A writable copy of the default corpus."""
    folder = tmp_path / "docs"
    shutil.copytree(CORPUS, folder)
    return folder


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The default corpus ingested once (Chroma on disk), for answer tests."""
    from app.library import ingest
    from app.settings import Settings

    settings = Settings(home=tmp_path_factory.mktemp("corpus-index"), folder=CORPUS)
    ingest(settings=settings)
    return settings

"""Sourcebook's one typed settings object; the only module that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The sample documents, shipped inside the package (corpus/ at the repository's root links here),
# so that an installed wheel has them too: the default folder, the int8 encoder's calibration.
BUNDLED_CORPUS = Path(__file__).resolve().parent / "corpus"


class Settings(BaseSettings):
    """Every knob of Sourcebook. Each field reads `SOURCEBOOK_<NAME>` from the environment."""

    model_config = SettingsConfigDict(
        env_prefix="SOURCEBOOK_", frozen=True, extra="ignore", populate_by_name=True
    )

    home: Path = Field(
        default=Path(".sourcebook"),
        description="Folder holding the index (Chroma on disk, records, text cache).",
    )
    folder: Path = Field(
        default=BUNDLED_CORPUS,
        # SOURCEBOOK_SOURCES was its first name; it still works. An alias replaces the env name
        # whole (pydantic-settings adds no prefix to it), so each must carry SOURCEBOOK_ itself:
        # a plain FOLDER in the environment is no setting of ours.
        validation_alias=AliasChoices("SOURCEBOOK_FOLDER", "SOURCEBOOK_SOURCES"),
        description="The folder a new index follows (`sourcebook ingest` without a path); an "
        "index, once built, follows the folder it was built from.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="http://HOST:PORT of a Chroma server (`chroma run`); unset: Chroma on disk.",
    )
    database_url: str | None = Field(
        default=None,
        description="postgresql://USER:PASSWORD@HOST:PORT/DB: keep documents, chunks, records, "
        "the change log, the ingest lock and login sessions there, shared by several servers "
        "(with a Chroma server, chroma_url); unset: SQLite in the home. Needs the `postgres` "
        "extra (psycopg).",
    )
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="A packaged model name (all-MiniLM-L6-v2) or a local sentence-transformers folder.",
    )
    embedding_backend: Literal[
        "auto", "torch", "onnx", "onnx-int8", "openvino", "openvino-int8"
    ] = Field(
        default="auto",
        description="Encoder runtime. auto: the fastest on this CPU among those whose vectors "
        "agree with torch fp32, measured once (`sourcebook prepare`) and cached; an index "
        "keeps the backend it was built with. torch: sentence-transformers fp32. onnx, "
        "onnx-int8: ONNX Runtime (int8: dynamic, VNNI or AVX2). openvino, openvino-int8: "
        "OpenVINO (the `openvino` extra; int8: static, calibrated on the bundled corpus).",
    )
    cache_dir: Path = Field(
        default=Path("~/.cache/sourcebook"),
        description="Where prepared encoders (exports, this CPU's choice) and the reader's ONNX "
        "export are kept, shared by every index home.",
    )
    chunk_tokens: int = Field(
        default=200, ge=32, le=254, description="Chunk size in the embedding model's word pieces."
    )
    chunk_overlap: int = Field(default=32, ge=0, le=128, description="Overlap between chunks.")
    top_k: int = Field(default=6, ge=1, le=50, description="Passages retrieved for an answer.")
    llm: str = Field(
        default="extractive",
        description="extractive | openai:MODEL | ollama:MODEL | llamacpp:PATH.gguf",
    )
    openai_base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible server (…/v1)."
    )
    openai_api_key: str = Field(default="not-needed", description="API key for openai:MODEL.")
    ollama_base_url: str = Field(
        default="http://127.0.0.1:11434", description="Ollama server for ollama:MODEL."
    )
    llm_timeout: float = Field(default=120.0, gt=0, description="Seconds to wait for an LLM.")
    max_file_mb: float = Field(
        default=50.0, gt=0, description="Files larger than this are skipped at ingest."
    )
    max_question_chars: int = Field(
        default=2000, ge=10, description="Longer questions are refused with a message."
    )
    max_upload_mb: float = Field(default=20.0, gt=0, description="Largest file the UI accepts.")
    watch_settle_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="`sourcebook watch` / `serve --watch`: a change is ingested once the folder "
        "has been quiet this long and the changed file's size and mtime have not moved for as "
        "long, so bursts (a git checkout) coalesce and a file still being written is waited for.",
    )
    watch_max_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        description="While changes keep coming, files that have settled are still ingested at "
        "least this often; files still being written keep waiting.",
    )
    host: str = Field(default="127.0.0.1", description="Address `sourcebook serve` binds to.")
    port: int = Field(default=7860, ge=1, le=65535, description="Port of `sourcebook serve`.")
    auth: SecretStr | None = Field(
        default=None,
        description="Logins for the chat window, user:password[,user:password]. Required (with "
        "or instead of api_keys) to serve beyond loopback; when set, enforced on any address.",
    )
    auth_file: Path | None = Field(
        default=None, description="A file of logins, one user:password per line (# comments)."
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description="Bearer tokens for the HTTP APIs (OpenAI-compatible /v1, Gradio's /ask), "
        "comma-separated. Required (with or instead of auth) to serve beyond loopback.",
    )
    api_keys_file: Path | None = Field(
        default=None, description="A file of bearer tokens, one per line (# comments)."
    )
    max_request_mb: float = Field(
        default=4.0,
        gt=0,
        description="Largest request body `sourcebook serve` reads (the APIs, the chat window's "
        "events); larger ones get 413 before they are read. The login form is held to 8 KB, an "
        "upload request to 5 x max_upload_mb.",
    )
    login_attempts: int = Field(
        default=5,
        ge=1,
        description="Failed logins allowed per client address, and per user name, within "
        "login_window_seconds; further attempts get 429 with Retry-After until the oldest "
        "failure leaves the window.",
    )
    login_window_seconds: float = Field(
        default=300.0,
        gt=0,
        description="The window over which failed logins are counted (and so the longest a "
        "user name under attack waits).",
    )
    session_idle_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="A login session unused for this long ends (the chat window asks to log in "
        "again).",
    )
    session_lifetime_seconds: float = Field(
        default=43200.0,
        gt=0,
        description="A login session ends this long after the login, however busy; its cookie "
        "expires then too.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, built once per process."""
    return Settings()

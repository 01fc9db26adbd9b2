"""PostgreSQL is optional: without SOURCEBOOK_DATABASE_URL nothing imports its driver, and with
it but no driver installed the user reads one line naming the extra; a database URL is never
shown with its password."""

from __future__ import annotations

import subprocess
import sys

from store.pg import shown, sqlalchemy_url


def test_the_library_runs_without_the_driver_and_names_the_extra_when_it_is_needed() -> None:
    code = """
import sys
sys.modules["psycopg"] = None  # as if not installed
sys.modules["psycopg_pool"] = None
from dataclasses import replace
import app, store
from app.library import index_config
from app.settings import Settings
from store.opening import open_text
config = index_config(Settings(home="/tmp/unused-home"))
try:
    open_text(replace(config, database_url="postgresql://x@127.0.0.1/db"))
except store.StoreError as e:
    print(e)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install -e '.[postgres]'" in out.stdout, out.stdout + out.stderr
    assert "Traceback" not in out.stderr


def test_a_database_url_is_shown_without_its_password() -> None:
    url = "postgresql://sourcebook:s3cret-pass@db.internal:5433/index?sslmode=require"
    assert shown(url) == "postgresql://sourcebook@db.internal:5433/index"
    assert "s3cret" not in shown(url)
    assert shown("postgresql:///index") == "postgresql://localhost/index"


def test_the_record_manager_reaches_the_same_database_through_psycopg_3() -> None:
    assert sqlalchemy_url("postgresql://u:p@h:1/d") == "postgresql+psycopg://u:p@h:1/d"
    assert sqlalchemy_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"

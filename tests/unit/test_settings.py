"""Only `SOURCEBOOK_*` names configure Sourcebook (issue 19: a plain `FOLDER` in the environment
moved the index, since a field's alias replaces its prefixed name)."""

from __future__ import annotations

import json
import subprocess

import pytest
from pydantic import AliasChoices

from app.settings import BUNDLED_CORPUS, Settings
from tests.helpers import SOURCEBOOK, quiet_env

PREFIX = "SOURCEBOOK_"


def env_names(name: str) -> list[str]:
    """Every environment name that sets field `name`."""
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [str(alias)] if alias else [PREFIX + name.upper()]


def test_every_setting_is_read_from_a_prefixed_name_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        assert all(e.upper().startswith(PREFIX) for e in env_names(name)), env_names(name)
    for key in [k for k in quiet_env() if k.startswith(PREFIX)]:
        monkeypatch.delenv(key)
    defaults = Settings().model_dump()
    for name in Settings.model_fields:  # the same names without the prefix: none is read
        for env in env_names(name):
            monkeypatch.setenv(env[len(PREFIX) :], "not-a-sourcebook-setting")
            monkeypatch.setenv(env[len(PREFIX) :].lower(), "not-a-sourcebook-setting")
    assert Settings().model_dump() == defaults


def test_the_old_name_of_the_folder_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCEBOOK_FOLDER", raising=False)
    monkeypatch.setenv("SOURCEBOOK_SOURCES", "/srv/papers")
    assert str(Settings().folder) == "/srv/papers"
    monkeypatch.setenv("SOURCEBOOK_FOLDER", "/srv/notes")
    assert str(Settings().folder) == "/srv/notes"


def test_a_plain_folder_variable_does_not_move_the_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The regression as a user met it: `FOLDER=/some/dir sourcebook ...` followed /some/dir.
    env = quiet_env(SOURCEBOOK_HOME=str(tmp_path / "home"), FOLDER=str(tmp_path))
    out = subprocess.run([SOURCEBOOK, "status"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["folder"] == str(BUNDLED_CORPUS.resolve())

"""Only `SOURCEBOOK_*` names configure Sourcebook (issue 19: a plain `FOLDER` in the environment
moved the index, since a field's alias replaces its prefixed name)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from pydantic import AliasChoices

from app.settings import BUNDLED_CORPUS, Settings
from tests.helpers import REPO, SOURCEBOOK, quiet_env

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


def settings_table() -> list[tuple[list[str], list[str]]]:
    """The README's settings table: (environment names, default cells) of each row."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `SOURCEBOOK_"):
            continue
        names_cell, default_cell = re.split(r"(?<!\\)\|", line)[1:3]
        first, *rest = re.findall(r"`(SOURCEBOOK_[A-Z_]+|_[A-Z_]+)`", names_cell)
        names = [first] + [f"{PREFIX[:-1]}{name}" for name in rest]
        rows.append((names, re.split(r" / |, ", default_cell.strip())))
    return rows


def shows(cell: str, default: object) -> bool:
    """Whether a default cell of the table shows `default`."""
    text = cell.strip().strip("`")
    if default is None:
        return text.startswith("unset")
    if default == BUNDLED_CORPUS:
        return "the bundled `corpus/`" in cell
    if isinstance(default, Path):
        return text.rstrip("/") == str(default)
    if isinstance(default, (int, float)):
        return float(text) == default
    return text == str(default)


def test_the_readme_settings_table_is_every_setting_with_its_name_and_default() -> None:
    field_of = {env: name for name in Settings.model_fields for env in env_names(name)}
    listed = []
    for names, defaults in settings_table():
        defaults = defaults * len(names) if len(defaults) == 1 else defaults
        assert len(defaults) == len(names), (names, defaults)
        for env, cell in zip(names, defaults, strict=True):
            assert env in field_of, f"{env} is in the README but is no setting"
            default = Settings.model_fields[field_of[env]].default
            assert shows(cell, default), f"{env}: the README says {cell!r}, the code {default!r}"
            listed.append(field_of[env])
    assert sorted(listed) == sorted(Settings.model_fields), "settings missing from the README"

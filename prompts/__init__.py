"""Prompt templates (the .txt files beside this module) and the one function that fills them."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

__all__ = ["PromptError", "names", "render"]

FOLDER = Path(__file__).resolve().parent


class PromptError(ValueError):
    """A template that does not exist, or values that do not match its placeholders."""


def names() -> list[str]:
    """Every template, by name (file name without `.txt`)."""
    return sorted(p.stem for p in FOLDER.glob("*.txt"))


@cache
def _template(name: str) -> tuple[string.Template, frozenset[str]]:
    path = FOLDER / f"{name}.txt"
    if not path.is_file():
        raise PromptError(f"no prompt template {name!r}; there are: {', '.join(names())}")
    template = string.Template(path.read_text(encoding="utf-8"))
    if not template.is_valid():
        raise PromptError(f"prompt template {name!r} has a malformed placeholder")
    return template, frozenset(template.get_identifiers())


def render(name: str, **values: str) -> str:
    """Template `name` with its `$placeholders` filled; every placeholder must be given, and
    nothing else may be (a typo in either place is an error, not a silently odd prompt)."""
    template, wanted = _template(name)
    missing = sorted(wanted - values.keys())
    unexpected = sorted(values.keys() - wanted)
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected {', '.join(unexpected)}")
        raise PromptError(f"prompt {name!r}: {'; '.join(problems)}")
    return template.substitute(values)

"""File names made safe to store (control and direction characters replaced) and to show
(escaped); names without any are left alone."""

from __future__ import annotations

from ingest import safe_name, shown_name


def test_names_lose_control_and_direction_characters() -> None:
    name = "evil\x1b[31m\u202etxt\u2066\x9b.exe\n.txt"
    assert safe_name(name) == "evil_[31m_txt__.exe_.txt"
    assert shown_name(name) == "evil\\x1b[31m\\u202etxt\\u2066\\x9b.exe\\x0a.txt"
    for plain in ("report (2).pdf", "보고서.pdf", "naïve—notes.md", "تقرير.txt"):
        assert safe_name(plain) == plain == shown_name(plain)

"""Split text into sentences, keeping each one's exact offsets."""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al inc ltd co corp gen gov sen rep "
    "jan feb mar apr jun jul aug sep sept oct nov dec no nos vol pp fig approx est u.s u.k".split()
)
# End of a sentence: . ! ? (and closing quotes/brackets), then space, then what can start one.
END = re.compile(r"""[.!?]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9가-힣])""")
LIST_MARKER = re.compile(r"^\s*(?:\d{1,3}|[ivxlcIVXLC]{1,5}|[a-zA-Z])\s*$")
SOFT_WRAP_WIDTH = 60  # a line shorter than this ends where it ends (headings, list items)


def _line_spans(text: str) -> list[tuple[int, int]]:
    """Paragraph-like stretches: blank lines always divide; a single newline divides unless
    it looks like a soft wrap in the middle of a sentence (as PDF text has)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"\n", text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line = text[line_start : m.start()].rstrip()
        rest = text[m.end() : m.end() + 1]
        soft = (
            len(line) >= SOFT_WRAP_WIDTH
            and not line.endswith((".", "!", "?", ":", ";", "”", '"'))
            and rest[:1].islower()
        )
        if not soft:
            spans.append((start, m.start()))
            start = m.end()
    spans.append((start, len(text)))
    return spans


def _is_abbreviation(text: str, end: int, line_start: int) -> bool:
    before = text[line_start:end]
    word = re.search(r"([\w.]+)$", before)
    if not word:
        return False
    token = word.group(1).lower().rstrip(".")
    if token in ABBREVIATIONS:
        return True
    if len(token) == 1 and token.isalpha():  # an initial: "J. Smith"
        return True
    return bool(LIST_MARKER.match(before))  # "1. Minister ..." starts a list item


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, shifted by `offset`; white space trimmed."""
    out: list[tuple[int, int]] = []
    for line_start, line_end in _line_spans(text):
        start = line_start
        for m in END.finditer(text, line_start, line_end):
            if _is_abbreviation(text, m.start(), line_start):
                continue
            out.append((start, m.end()))
            start = m.end()
        out.append((start, line_end))
    trimmed = []
    for start, end in out:
        piece = text[start:end]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        if right > left:
            trimmed.append((offset + start + left, offset + start + right))
    return trimmed


def _is_short_line(piece: str) -> bool:
    return len(piece.split()) < 12 and not piece.rstrip().endswith((".", "!", "?", ":"))


def merge_short_runs(
    text: str, spans: list[tuple[int, int]], offset: int = 0
) -> list[tuple[int, int]]:
    """Join a run of 2 to 4 short lines (a byline, an address, a caption with its credit) into
    one span, since such lines only say something together: "PARK Joungho / Research Fellow /
    Korea Institute for International Economic Policy". Headings start a new run."""
    out: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []

    def close() -> None:
        if 2 <= len(run) <= 4:
            out.append((run[0][0], run[-1][1]))
        else:
            out.extend(run)
        run.clear()

    for start, end in spans:
        piece = text[start - offset : end - offset]
        gap = text[run[-1][1] - offset : start - offset] if run else ""
        if _is_short_line(piece) and not piece.startswith("#") and (not run or gap.strip() == ""):
            if run and "\n" not in gap:  # two short sentences on one line are not a run of lines
                close()
            run.append((start, end))
        else:
            close()
            out.append((start, end))
    close()
    return out

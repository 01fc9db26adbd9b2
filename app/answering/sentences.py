"""Split text into what an answer can quote, keeping exact offsets: sentences, and code blocks
whole (a fenced block, as Markdown writes it and as ingest renders an HTML `<pre>`)."""

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
FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n", re.MULTILINE)
# Nothing to quote: a section number ("12.3."), a bullet, a permalink mark.
NOT_PROSE = re.compile(r"^[\s\d.§¶#*•·\-–—()\[\]]*$")


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


def code_blocks(text: str) -> list[tuple[int, int, int, int]]:
    """Fenced code blocks as (start, end, code start, code end): the whole block with its fences,
    and the code inside. A fence left open runs to the end of the text (a passage may cut one)."""
    out = []
    pos = 0
    while m := FENCE.search(text, pos):
        close = re.compile(rf"^[ \t]*{re.escape(m.group(1))}[ \t]*$", re.MULTILINE)
        end = close.search(text, m.end())
        code_end = end.start() if end else len(text)
        block_end = end.end() if end else len(text)
        inner = text[m.end() : code_end].rstrip()
        out.append((m.start(), block_end, m.end(), m.end() + len(inner)))
        pos = max(block_end, m.end())
    return out


def quotable_units(text: str, offset: int = 0) -> list[tuple[int, int, bool]]:
    """(start, end, is_code) of what can be quoted from `text`, in order, shifted by `offset`:
    each code block's code whole, and the sentences of the prose around them (short runs of lines
    joined, see merge_short_runs); section numbers and marks alone are left out."""
    out: list[tuple[int, int, bool]] = []
    pos = 0
    for start, end, code_start, code_end in [*code_blocks(text), (len(text),) * 4]:
        prose = text[pos:start]
        spans = merge_short_runs(prose, split_sentences(prose, pos), pos)
        out += [(s + offset, e + offset, False) for s, e in spans if not NOT_PROSE.match(text[s:e])]
        if code_end > code_start:
            out.append((code_start + offset, code_end + offset, True))
        pos = end
    return out

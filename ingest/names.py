"""File names that cannot fool a reader: control and bidirectional-override characters replaced
in a name to store, and escaped in a name to show (a terminal or a page would act on them)."""

from __future__ import annotations

import unicodedata

# Bidirectional marks, embeddings, overrides and isolates, and the line and paragraph
# separators: they reorder or break what is shown without being seen themselves.
_UNSEEN = set("\u061c\u200e\u200f\u2028\u2029") | {chr(c) for c in range(0x202A, 0x202F)}
_UNSEEN |= {chr(c) for c in range(0x2066, 0x206A)}


def is_unseen(char: str) -> bool:
    """A control character (C0, DEL, C1) or one that reorders text."""
    return char in _UNSEEN or unicodedata.category(char) == "Cc"


def safe_name(name: str) -> str:
    """`name` with each unseen character replaced by "_" (for a file an upload stores)."""
    return "".join("_" if is_unseen(c) else c for c in name)


def shown_name(name: str) -> str:
    """`name` with each unseen character written as its escape (\\x1b, \\u202e), for a line in
    a terminal or a page; a name without any comes back as it is."""
    return "".join(_escape(c) if is_unseen(c) else c for c in name)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

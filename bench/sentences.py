"""What an answer can quote, by our splitter and by pysbd and blingfire: boundaries on our cases
(abbreviations, numbers, lists, code, headings and PDF line wraps) and speed per MB.

    .venv/bin/python bench/sentences.py        # needs `pip install -e .[bench]`

Each candidate replaces `split_sentences` inside `quotable_units`, so code blocks are cut out the
same way for all and the comparison is of sentence boundaries: "alone" gives the library the whole
prose between code blocks, "in our lines" gives it each stretch our line rules make (blank lines,
short lines, soft wraps), as a swap inside sentences.py would. A case passes when the units are
exactly the expected ones.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.answering import sentences  # noqa: E402
from store.machine import describe  # noqa: E402

Spans = list[tuple[int, int]]
Splitter = Callable[[str, int], Spans]
FENCE = "```"
WATER = "water resources of the Aral Sea basin, shared by five countries since 1992"
ENERGY = "energy and transport links between Central Asia and Korea, in three corridors"
WRAP = "Representatives of the five Central Asian countries and Korea met in the capital"

# (category, text, the units an answer may quote, in order)
CASES: list[tuple[str, str, list[str]]] = [
    ("abbreviations", "Dr. Kim met Mr. J. Smith of the U.S. delegation. They spoke.",
     ["Dr. Kim met Mr. J. Smith of the U.S. delegation.", "They spoke."]),
    ("abbreviations", "The forum opened on Nov. 30 in Dushanbe. It lasted two days.",
     ["The forum opened on Nov. 30 in Dushanbe.", "It lasted two days."]),
    ("abbreviations", "Exports, e.g. cotton and gas, grew. Imports, i.e. machines, fell.",
     ["Exports, e.g. cotton and gas, grew.", "Imports, i.e. machines, fell."]),
    ("abbreviations", "See Fig. 3 and Vol. 2 for details. The tables follow.",
     ["See Fig. 3 and Vol. 2 for details.", "The tables follow."]),
    ("abbreviations", "Prof. Park Joungho of KIEP wrote it. Gen. Lee agreed.",
     ["Prof. Park Joungho of KIEP wrote it.", "Gen. Lee agreed."]),
    ("abbreviations", "Goods went to St. Petersburg, Almaty etc. The route was new.",
     ["Goods went to St. Petersburg, Almaty etc.", "The route was new."]),
    ("abbreviations", "Meeting No. 5 was held in Seoul. Meeting No. 6 followed.",
     ["Meeting No. 5 was held in Seoul.", "Meeting No. 6 followed."]),
    ("numbers", "Trade rose 3.5 percent in 2021. It fell in 2022.",
     ["Trade rose 3.5 percent in 2021.", "It fell in 2022."]),
    ("numbers", "The fund holds $1.2 billion. Korea gave 1,130 million won.",
     ["The fund holds $1.2 billion.", "Korea gave 1,130 million won."]),
    ("numbers", "Python 3.11.2 fixed it. Version 3.12 changed it again.",
     ["Python 3.11.2 fixed it.", "Version 3.12 changed it again."]),
    ("numbers", "The score was 9.5. Then it rose to 10.",
     ["The score was 9.5.", "Then it rose to 10."]),
    ("numbers", "It was signed on 30.11.2021 in Dushanbe. Both sides agreed.",
     ["It was signed on 30.11.2021 in Dushanbe.", "Both sides agreed."]),
    ("lists", "1. Minister Kang spoke first.\n2. Vice Minister Lee followed.",
     ["1. Minister Kang spoke first.", "2. Vice Minister Lee followed."]),
    ("lists", f"The agenda:\n- {WATER}\n- {ENERGY}",
     ["The agenda:", f"- {WATER}", f"- {ENERGY}"]),
    ("lists", "ii. The second point is trade. iii. The third is energy.",
     ["ii. The second point is trade.", "iii. The third is energy."]),
    ("lists", "(a) Water is scarce. (b) Energy is cheap.",
     ["(a) Water is scarce.", "(b) Energy is cheap."]),
    ("lists", "12.3. Creating virtual environments\n\nThe venv module creates them.",
     ["Creating virtual environments", "The venv module creates them."]),
    ("code", "Run python3 -m venv env. Then activate it.",
     ["Run python3 -m venv env.", "Then activate it."]),
    ("code", "Call os.path.join(a, b). It returns a str.",
     ["Call os.path.join(a, b).", "It returns a str."]),
    ("code", "Edit setup.py and pyproject.toml first. Then build.",
     ["Edit setup.py and pyproject.toml first.", "Then build."]),
    ("code", "See https://docs.python.org/3/library/venv.html for more. It is short.",
     ["See https://docs.python.org/3/library/venv.html for more.", "It is short."]),
    ("code", f"To create one:\n\n{FENCE}\npython3 -m venv env. Then\nsource env/bin/activate\n"
     f"{FENCE}\n\nThat is all.",
     ["To create one:", "python3 -m venv env. Then\nsource env/bin/activate", "That is all."]),
    ("code", f"Install it.\n\n{FENCE}python\nimport venv\nvenv.create('env')\n{FENCE}",
     ["Install it.", "import venv\nvenv.create('env')"]),
    ("quotes", '"It works." She said so. He asked "why?" and left.',
     ['"It works."', "She said so.", 'He asked "why?" and left.']),
    ("Korean", "포럼은 두샨베에서 열렸다. 다음 포럼은 서울에서 열린다.",
     ["포럼은 두샨베에서 열렸다.", "다음 포럼은 서울에서 열린다."]),
    ("layout", "Introduction\nThe forum was held in Dushanbe.",
     ["Introduction", "The forum was held in Dushanbe."]),
    ("layout", f"{WRAP}\nof Tajikistan on 30 November. They agreed on water.",
     [f"{WRAP}\nof Tajikistan on 30 November.", "They agreed on water."]),
    ("layout", "PARK Joungho\nResearch Fellow\nKorea Institute for International Economic Policy",
     ["PARK Joungho\nResearch Fellow\nKorea Institute for International Economic Policy"]),
]  # fmt: skip


def trimmed(text: str, spans: Spans, offset: int) -> Spans:
    out = []
    for start, end in spans:
        piece = text[start - offset : end - offset]
        left, right = len(piece) - len(piece.lstrip()), len(piece.rstrip())
        if right > left:
            out.append((start + left, start + right))
    return out


def make_pysbd() -> Splitter:
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)

    def split(text: str, offset: int = 0) -> Spans:
        spans = (
            [(s.start + offset, s.end + offset) for s in segmenter.segment(text)] if text else []
        )
        return trimmed(text, spans, offset)

    return split


def make_blingfire() -> Splitter:
    import blingfire

    def split(text: str, offset: int = 0) -> Spans:
        if not text.strip():
            return []
        _, offsets = blingfire.text_to_sentences_and_offsets(text)
        return trimmed(text, [(a + offset, b + offset) for a, b in offsets], offset)

    return split


def in_our_lines(split: Splitter) -> Splitter:
    """The library within each stretch our line rules make, as a swap in sentences.py would."""

    def by_lines(text: str, offset: int = 0) -> Spans:
        out: Spans = []
        for start, end in sentences._line_spans(text):
            out += split(text[start:end], offset + start)
        return out

    return by_lines


def units(split: Splitter, text: str) -> list[str]:
    original = sentences.split_sentences
    sentences.split_sentences = split  # type: ignore[assignment]  # quotable_units calls it
    try:
        return [text[a:b] for a, b, _ in sentences.quotable_units(text)]
    finally:
        sentences.split_sentences = original


def speed_text() -> str:
    """About 1 MB of our own documents: the bundled corpus, and Python's docs as ingest reads them."""
    from ingest import load

    parts = [p.read_text() for p in sorted((REPO / "corpus").glob("*.txt"))]
    docs = Path("/usr/share/doc/python3.11/html/library")
    for path in sorted(docs.glob("*.html")) if docs.is_dir() else []:
        parts.append(load(path, path.read_bytes()).text)
        if sum(map(len, parts)) > 1_000_000:
            break
    return "\n\n".join(parts)


def main() -> None:
    print(f"CPU: {describe()}")
    pysbd_split, blingfire_split = make_pysbd(), make_blingfire()
    candidates: dict[str, Splitter] = {
        "ours (sentences.py)": sentences.split_sentences,
        "pysbd 0.3.4 alone": pysbd_split,
        "pysbd in our lines": in_our_lines(pysbd_split),
        "blingfire 0.1.8 alone": blingfire_split,
        "blingfire in our lines": in_our_lines(blingfire_split),
    }
    categories = sorted({c for c, _, _ in CASES})
    print(f"\n{len(CASES)} cases; units exactly right, by category:")
    print(f"{'':24}" + "".join(f"{c[:13]:>14}" for c in categories) + f"{'all':>8}")
    for name, split in candidates.items():
        right = {c: [0, 0] for c in categories}
        misses = []
        for category, text, expected in CASES:
            got = units(split, text)
            right[category][1] += 1
            right[category][0] += got == expected
            if got != expected:
                misses.append(f"    {category}: {got!r}")
        total = sum(r[0] for r in right.values())
        row = "".join(f"{f'{r[0]}/{r[1]}':>14}" for r in right.values())
        print(f"{name:24}{row}{f'{total}/{len(CASES)}':>8}")
        if "-v" in sys.argv:
            print("\n".join(misses))
    text = speed_text()
    print(f"\nspeed on {len(text) / 1e6:.2f} MB of our documents (quotable_units, best of 3):")
    for name, split in candidates.items():
        best = min(timed(split, text) for _ in range(3))
        print(f"{name:24}{len(text) / 1e6 / best:8.2f} MB/s")


def timed(split: Splitter, text: str) -> float:
    started = time.perf_counter()
    units(split, text)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

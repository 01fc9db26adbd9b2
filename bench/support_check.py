"""Measure the support check (app.answering.support) on labelled claim/passage pairs and print,
for a grid of bars, how many supported claims pass and how many unsupported ones get through;
then the same for the reader (app.answering.reader) reading each claim with the passage's
sentence that backs it best, alone and together with the check.

    .venv/bin/python bench/support_check.py [PAIRS.jsonl]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

# Run as a script from bench/: import the project, not bench/ingest.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.answering.reader import Sentence, frame_of, shipped  # noqa: E402
from app.answering.support import Support, SupportBar, SupportChecker  # noqa: E402
from app.library import get_index, ingest  # noqa: E402
from app.settings import BUNDLED_CORPUS, Settings  # noqa: E402
from store import Hit, Index, search  # noqa: E402

PAIRS = Path(__file__).resolve().parent / "support_pairs.jsonl"


def passage_with(index: Index, anchor: str) -> Hit:
    for hit in search(index, anchor, k=10):
        if anchor in hit.text:
            return hit
    raise LookupError(f"no chunk holds {anchor!r}")


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else PAIRS
    pairs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    settings = Settings(home=Path(tempfile.mkdtemp()), folder=BUNDLED_CORPUS)
    ingest(settings=settings)
    index = get_index(settings)
    reader = shipped(settings.cache_dir.expanduser())
    rows: list[tuple[bool, Support]] = []
    read: list[float] = []
    for pair in pairs:
        hit = passage_with(index, pair["anchor"])
        s = SupportChecker([hit], index.embeddings).support(pair["claim"], 1)
        assert s is not None
        rows.append((pair["supported"], s))
        quote = Sentence(frame_of(hit.title, hit.heading), s.quote)  # the sentence backing it best
        read.append(float(reader.score(pair["claim"], [quote])[0]))
        print(
            f"{pair['supported']!s:5} r={s.recall:.2f} cos={s.similarity:.2f} "
            f"num={s.numbers_found!s:5} missing={','.join(s.missing):24} {pair['claim'][:60]}"
        )
    positives = sum(r[0] for r in rows)
    print(f"\n{len(rows)} pairs, {positives} supported")
    print("max_missing sim_bar  kept_supported  passed_unsupported")
    for missing in (0, 1, 2):
        for sim in (0.0, 0.4, 0.5, 0.6, 0.7):
            bar = SupportBar(max_missing=missing, similarity=sim)
            kept = sum(s.passes(bar) for label, s in rows if label)
            leaked = sum(s.passes(bar) for label, s in rows if not label)
            negatives = len(rows) - positives
            print(f"{missing:11d} {sim:7.2f}  {kept:3d}/{positives}  {leaked:3d}/{negatives}")
    reader_table(rows, read, reader.bar)


def reader_table(rows: list[tuple[bool, Support]], read: list[float], bar: float) -> None:
    """Kept and passed at the reader's bar, alone and with the default check."""
    positives = sum(label for label, _ in rows)
    negatives = len(rows) - positives
    default = SupportBar()
    print(f"\nthe reader on (claim, best sentence), answer bar {bar:.3f}")
    print("check                 kept_supported  passed_unsupported")
    for name, ok in (
        ("reader alone", [p >= bar for p in read]),
        (
            "check and reader",
            [s.passes(default) and p >= bar for (_, s), p in zip(rows, read, strict=True)],
        ),
        ("check alone", [s.passes(default) for _, s in rows]),
    ):
        kept = sum(o for o, (label, _) in zip(ok, rows, strict=True) if label)
        leaked = sum(o for o, (label, _) in zip(ok, rows, strict=True) if not label)
        print(f"{name:20s}  {kept:3d}/{positives}  {leaked:3d}/{negatives}")


if __name__ == "__main__":
    main()

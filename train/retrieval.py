"""Retrieval in the simulation's long-document form (one file per held-out article): where the
first passage holding the answer ranks, for several chunk sizes, overlaps and with or without
the document's title embedded with each chunk. Dense ranking only (the part these settings
change); the answerer's hybrid search adds keyword matches on top.

    .venv/bin/python -m train.retrieval
"""

from __future__ import annotations

import argparse
import logging
import random

import numpy as np

from app.answering.reader import frame_of
from train.simulate import holds_answer, make_plan

log = logging.getLogger("train.retrieval")
SETTINGS = [(200, 32, False), (200, 32, True), (128, 32, False), (128, 32, True), (254, 48, True)]


def chunks_of(title: str, text: str, tokens: int, overlap: int, count: object) -> list[str]:
    from ingest.chunking import make_splitter

    splitter = make_splitter(count, tokens, overlap)  # type: ignore[arg-type]
    return [p for p in splitter.split_text(text) if p.strip()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--questions", type=int, default=1200)
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    from app.settings import get_settings
    from store.embeddings import make_embeddings

    cache = get_settings().cache_dir.expanduser()
    model = make_embeddings("all-MiniLM-L6-v2", "auto", cache_dir=cache)
    plan = make_plan(args.seed)
    articles = {
        t: "\n\n".join(dict.fromkeys(q.context for q in qs)) for t, qs in plan.in_folder.items()
    }
    pool = [q for qs in plan.in_folder.values() for q in qs if q.answerable]
    questions = random.Random(args.seed).sample(pool, min(args.questions, len(pool)))
    qv = np.array(model.embed_documents([q.question for q in questions]))
    for tokens, overlap, titled in SETTINGS:
        rows = [
            (title, chunk)
            for title, text in articles.items()
            for chunk in chunks_of(title, text, tokens, overlap, model.count_tokens)
        ]
        texts = [f"{frame_of(t, None)}: {c}" if titled else c for t, c in rows]
        cv = np.array(model.embed_documents(texts))
        ranks = []
        for q, v in zip(questions, qv, strict=True):
            order = np.argsort(-(cv @ v))
            found = [
                r
                for r, i in enumerate(order, 1)
                if rows[i][0] == q.title and holds_answer(q, rows[i][1])
            ]
            ranks.append(found[0] if found else 10**6)
        ranks_a = np.array(ranks)
        print(
            f"chunks {tokens}/{overlap} {'title: chunk' if titled else 'chunk alone':12} "
            f"({len(rows)} chunks): "
            + "  ".join(f"hit@{k} {np.mean(ranks_a <= k):.3f}" for k in (1, 3, 5, 6, 10, 20))
        )


if __name__ == "__main__":
    main()

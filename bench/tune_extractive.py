"""Measure the extractive answerer's ranking and refusal features on question files, and fit the
refusal model (a 3-feature logistic regression) with 5-fold cross-validation.

    python -m bench.tune_extractive ../shared/eval/clapnq/dev.jsonl=/tmp/clap \
        ../shared/eval/dev_qa.jsonl=/tmp/seeds

Each argument is QUESTIONS=HOME (features are cached in HOME; --fresh recomputes them): a question file and the SOURCEBOOK_HOME of an index of its
corpus. The printed weights are what `app.extractive.Tuning` holds; the figures say how well they
separate answerable from unanswerable questions on data the fit did not see.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from app.evaluate import Grader, find_gold_dir
from app.extractive import Tuning, candidates
from app.followup import standalone_question
from app.library import get_index
from app.settings import Settings
from store import search

FEATURES = ("dense", "context", "words")


def features(questions: Path, home: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per question: the best sentence's features, answerable or not, and whether it is gold."""
    settings = Settings(home=Path(home))
    index = get_index(settings)
    grader = Grader(find_gold_dir(questions))
    rows, labels, gold = [], [], []
    for line in questions.read_text().splitlines():
        row = json.loads(line)
        history = [{"role": "user", "content": h} for h in row.get("history", [])]
        question = standalone_question(row["question"], history)
        cands = candidates(index, question, search(index, question, k=settings.top_k), Tuning())
        if not cands:
            rows.append([0.0, 0.0, 0.0])
            gold.append(False)
        else:
            best = cands[0]
            rows.append([best.plain_dense, best.context_coverage, min(len(best.text.split()), 40)])
            gold.append(grader.in_gold(best.text, row))
        labels.append(bool(row.get("answerable", True)))
    return np.array(rows), np.array(labels, float), np.array(gold)


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted, lightly L2-regularised logistic regression by gradient descent."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.2 * (z.T @ ((p - y) * weight) / weight.sum() + 0.5 * w / len(y))
        b -= 0.2 * float(((p - y) * weight).sum() / weight.sum())
    return w / sd, b - float((w / sd) @ mu)


def auc(score: np.ndarray, y: np.ndarray) -> float:
    pos, neg = score[y == 1], score[y == 0]
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def cached_features(questions: Path, home: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`features()`, kept in the home so that refitting does not ask every question again."""
    cache = Path(home) / f"tune-{questions.stem}.npz"
    if cache.exists() and "--fresh" not in sys.argv:
        data = np.load(cache)
        return data["x"], data["y"], data["gold"]
    x, y, gold = features(questions, home)
    np.savez(cache, x=x, y=y, gold=gold)
    return x, y, gold


def main(pairs: list[str]) -> None:
    sets = [cached_features(Path(q), h) for q, h in (p.split("=", 1) for p in pairs)]
    # Each question set counts equally, whatever its size.
    weight = np.concatenate([np.full(len(y), 1.0 / len(y)) for _, y, _ in sets])
    x = np.vstack([s[0] for s in sets])
    y = np.concatenate([s[1] for s in sets])
    w, b = fit(x, y, weight * len(y))
    print("weights", dict(zip(FEATURES, np.round(w, 3).tolist(), strict=True)), "bias", round(b, 3))
    first = 0
    for pair, (xs, ys, gs) in zip(pairs, sets, strict=True):
        order = np.random.default_rng(0).permutation(len(ys))
        held = np.zeros(len(ys))
        for fold in np.array_split(order, 5):
            keep = np.setdiff1d(np.arange(len(y)), fold + first)
            wf, bf = fit(x[keep], y[keep], (weight * len(y))[keep])
            held[fold] = xs[fold] @ wf + bf
        print(
            f"{pair}: held-out AUC {auc(held, ys):.3f}; best sentence gold for "
            f"{gs[ys == 1].mean():.2f} of answerable"
        )
        first += len(ys)
        for bar in (0.4, 0.5, 0.55, 0.6, 0.65):
            logit = np.log(bar / (1 - bar))
            answered = held >= logit
            print(
                f"  bar {bar}: answers {answered[ys == 1].mean():.2f} of answerable, "
                f"refuses {(~answered[ys == 0]).mean():.2f} of unanswerable"
            )


if __name__ == "__main__":
    main([a for a in sys.argv[1:] if not a.startswith("--")])

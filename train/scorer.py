"""Train the sentence scorer: a cross-encoder over (question, title: sentence) pairs from the
packaged all-MiniLM-L6-v2 and ../shared/data/squad2/train.jsonl, then print its validation
figures beside the cosine baseline and store the answer bar chosen on the validation split.

    .venv/bin/python -m train.scorer
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from app.answering.reader import Tokens, base_model_path, frame_of, weights_metadata
from app.answering.reader_model import FROZEN, build_scorer, load_scorer, trained_state
from train.reader import DATA, Corpus, embed, make_corpus, read_items, sample, six_passages

log = logging.getLogger("train.scorer")
OUT = Path(__file__).resolve().parents[1] / "app" / "answering" / "scorer.safetensors"
MAX_TOKENS = 128


def encode(tokens: Tokens, pairs: list[tuple[str, str]]) -> dict[str, torch.Tensor]:
    encs = [tokens.pair(q, s) for q, s in pairs]
    n = min(max(len(e.ids) for e in encs), MAX_TOKENS)
    ids = torch.zeros(len(encs), n, dtype=torch.long)
    types, mask = torch.zeros_like(ids), torch.zeros_like(ids)
    for i, e in enumerate(encs):
        m = min(len(e.ids), n)
        ids[i, :m] = torch.tensor(e.ids[:m])
        types[i, :m] = torch.tensor(e.type_ids[:m])
        mask[i, :m] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


def sentences_of(corpus: Corpus, k: int) -> list[tuple[str, int, int]]:
    w = corpus.windows[k]
    return [
        (w.context[w.start + a : w.start + b], w.start + a, w.start + b) for a, b in w.sentences
    ]


def holds(item, start: int, end: int) -> bool:  # type: ignore[no-untyped-def]
    return any(start <= s < end for s, _ in item.answers)


def training_pairs(corpus: Corpus, rng: random.Random) -> list[tuple[str, str, float]]:
    """Per question: its gold sentence (answerable) and one other sentence of its paragraph,
    plus one sentence of the article's window most like the question (never a gold one)."""
    out = []
    for q, item in enumerate(corpus.items):
        title = frame_of(item.title, None)
        own = [s for k in corpus.own[q] for s in sentences_of(corpus, k)]
        gold = [s for s in own if holds(item, s[1], s[2])]
        rest = [s for s in own if not holds(item, s[1], s[2])]
        for text, _, _ in gold[:1]:
            out.append((item.question, f"{title}: {text}", 1.0))
        for text, _, _ in rng.sample(rest, min(len(rest), 1 if gold else 2)):
            out.append((item.question, f"{title}: {text}", 0.0))
        texts = [t.lower() for _, t in item.answers]
        pool = [
            k
            for k in corpus.similar[q][:3]
            if not any(
                t
                in corpus.windows[k]
                .context[corpus.windows[k].start : corpus.windows[k].end]
                .lower()
                for t in texts
            )
        ]
        if pool:
            text = rng.choice(sentences_of(corpus, pool[0]))[0]
            out.append((item.question, f"{title}: {text}", 0.0))
    return out


def score(model: torch.nn.Module, tokens: Tokens, pairs: list[tuple[str, str]]) -> np.ndarray:
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][1]))
    out = np.zeros(len(pairs))
    with torch.inference_mode():
        for i in range(0, len(order), 64):
            rows = order[i : i + 64]
            logits = model(**encode(tokens, [pairs[j] for j in rows]))
            out[rows] = torch.sigmoid(logits).numpy()
    return out


def evaluate(model: torch.nn.Module, tokens: Tokens, corpus: Corpus) -> float:
    from sklearn.metrics import roc_auc_score

    from train.reader import best_threshold, table

    rows = []  # (q, window, start, end, text)
    for q in range(len(corpus.items)):
        for k in six_passages(corpus, q):
            for text, s, e in sentences_of(corpus, k):
                rows.append((q, k, s, e, text))
    titles = [frame_of(corpus.items[q].title, None) for q, *_ in rows]
    pairs = [
        (corpus.items[q].question, f"{t}: {r[4]}")
        for (q, *_), r, t in zip(rows, rows, titles, strict=True)
    ]
    signals = {"scorer": score(model, tokens, pairs)}
    qv = embed([i.question for i in corpus.items])
    sv = embed([p[1] for p in pairs])
    signals["cosine, title: sentence"] = np.array([sv[i] @ qv[r[0]] for i, r in enumerate(rows)])
    bar = 0.5
    for name, values in signals.items():
        for setting in ("own paragraph", "six passages"):
            best: dict[int, tuple[float, bool]] = {}
            for (q, k, s, e, _), v in zip(rows, values, strict=True):
                if setting == "own paragraph" and k not in corpus.own[q]:
                    continue
                item = corpus.items[q]
                right = corpus.windows[k].context == item.context and holds(item, s, e)
                if q not in best or v > best[q][0]:
                    best[q] = (float(v), right)
            qs = sorted(best)
            scores = np.array([best[q][0] for q in qs])
            labels = np.array([bool(corpus.items[q].answers) for q in qs])
            right = np.array([best[q][1] for q in qs])
            t = best_threshold(scores, labels, right)
            log.info(
                "%-24s %-14s AUC %.3f  best sentence right (answerable) %.3f  end-to-end %.3f @ %.3f",
                name,
                setting,
                roc_auc_score(labels, scores),
                right[labels].mean(),
                np.where(scores >= t, right, ~labels).mean(),
                t,
            )
            if setting == "six passages" and name == "scorer":
                # Shown, not used for the bar: retrieval misses, each answerable question read
                # with its six windows but its own (on-topic windows that do not answer it).
                miss: dict[int, float] = {}
                for (q, k, *_), v in zip(rows, values, strict=True):
                    if corpus.items[q].answers and k not in corpus.own[q]:
                        miss[q] = max(miss.get(q, 0.0), float(v))
                m_scores = np.concatenate([scores, list(miss.values())])
                m_labels = np.concatenate([labels, np.zeros(len(miss), dtype=bool)])
                m_right = np.concatenate([right, np.zeros(len(miss), dtype=bool)])
                m_bar = best_threshold(m_scores, m_labels, m_right)
                log.info(
                    "with %d retrieval misses as unanswerable too: end-to-end %.3f @ %.3f\n%s",
                    len(miss),
                    np.where(m_scores >= m_bar, m_right, ~m_labels).mean(),
                    m_bar,
                    "\n".join(table((m_scores, m_labels, m_right), [0.5, 0.7, t, m_bar])),
                )
            if setting == "six passages":
                log.info(
                    "\n%s",
                    "\n".join(
                        table((scores, labels, right), sorted({0.3, 0.5, 0.7, 0.9, round(t, 3)}))
                    ),
                )
                if name == "scorer":
                    bar = t
    return bar


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--train-questions", type=int, default=0)
    p.add_argument("--val-questions", type=int, default=600, help="a sample (0: all)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--eval-only", action="store_true", help="score --out again, store its bar")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    tokens = Tokens()
    if args.eval_only:
        model = load_scorer(args.out, base_model_path())
        val = sample(read_items(DATA / "validation.jsonl"), args.val_questions, args.seed)
        bar = evaluate(model, tokens, make_corpus(tokens, val))
        meta = weights_metadata(args.out) | {"answer_bar": f"{bar:.4f}"}
        save_file(trained_state(model), str(args.out), metadata=meta)
        log.info("answer bar %.4f stored in %s", bar, args.out)
        return
    items = sample(read_items(DATA / "train.jsonl"), args.train_questions, args.seed)
    pairs = training_pairs(make_corpus(tokens, items), rng)
    log.info(
        "%d questions, %d pairs (%d positive)", len(items), len(pairs), sum(p[2] for p in pairs)
    )
    model = build_scorer(base_model_path())
    for name, param in model.named_parameters():
        param.requires_grad = name not in FROZEN
    steps = math.ceil(args.epochs * len(pairs) / args.batch)
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01
    )
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    model.train()
    started, running = time.time(), 0.0
    for step in range(1, steps + 1):
        if (step - 1) * args.batch % len(pairs) < args.batch:
            rng.shuffle(pairs)
        i = (step - 1) * args.batch % len(pairs)
        batch = pairs[i : i + args.batch]
        logits = model(**encode(tokens, [(q, s) for q, s, _ in batch]))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, torch.tensor([y for *_, y in batch])
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        running += float(loss)
        if step % 50 == 0 or step == steps:
            rate = step * args.batch / (time.time() - started)
            log.info(
                "step %d/%d loss %.3f  %.1f pairs/s  load %.1f",
                step,
                steps,
                running / 50,
                rate,
                os.getloadavg()[0],
            )
            running = 0.0
    model.eval()
    log.info("trained in %.1f min", (time.time() - started) / 60)
    state = trained_state(model)
    save_file(state, str(args.out), metadata={k: str(v) for k, v in vars(args).items()})
    val = sample(read_items(DATA / "validation.jsonl"), args.val_questions, args.seed)
    bar = evaluate(model, tokens, make_corpus(tokens, val))
    save_file(
        state,
        str(args.out),
        metadata={k: str(v) for k, v in vars(args).items()} | {"answer_bar": f"{bar:.4f}"},
    )
    log.info("answer bar %.4f stored in %s", bar, args.out)


if __name__ == "__main__":
    main()

"""Train the reader (v2): a cross-encoder over (question, sentence) pairs with a span head, from
the packaged all-MiniLM-L6-v2, SQuAD 1.1's training questions (less the articles held out for
the simulation) and ../shared/data/squad2/train.jsonl. Prints its figures on SQuAD 2.0's
validation articles; `train/simulate.py` then chooses the answer bar where users ask.

    .venv/bin/python -m train.reader --out app/answering/reader.safetensors   # ~80 min, 2 cores
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import random
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from app.answering.reader import (
    Encoded,
    Reader,
    Sentence,
    base_model_path,
    batch_inputs,
    encode,
    frame_of,
    make_tokens,
    weights_metadata,
)
from app.answering.reader_model import FROZEN, SentenceScorer, build_scorer, load_scorer
from store.models import Tokens
from train.squad import (
    SQUAD2_TRAIN,
    SQUAD2_VALIDATION,
    Pair,
    Question,
    gold_sentences,
    nearest_paragraphs,
    pairs_for,
    paragraphs_of,
    read_questions,
    split_squad1,
)
from train.weights import run_torch, trained_state

log = logging.getLogger("train.reader")
CACHE = Path("/tmp/sourcebook-train")


def cpu_has_bf16() -> bool:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "amx_bf16" in flags or "avx512_bf16" in flags


def embed(texts: list[str]) -> np.ndarray:
    """Unit vectors from the packaged MiniLM, as search makes them (this CPU's fastest backend),
    cached on disk by the texts' hash (a rerun does not embed again)."""
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"vectors-{key}.npy"
    if path.exists():
        return np.asarray(np.load(path), dtype=np.float32)
    from app.settings import get_settings
    from store.embeddings import make_embeddings

    cache = get_settings().cache_dir.expanduser()
    model = make_embeddings("all-MiniLM-L6-v2", "auto", cache_dir=cache)
    started = time.time()
    vectors = np.asarray(model.embed_documents(texts), dtype=np.float32)
    log.info("embedded %d texts in %.0f s", len(texts), time.time() - started)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def make_pairs(questions: list[Question], rng: random.Random) -> list[Pair]:
    paragraphs = paragraphs_of(questions)
    q_vectors = embed([q.question for q in questions])
    p_vectors = embed([f"{frame_of(p.title, None)}: {p.text}" for p in paragraphs.values()])
    same, other = nearest_paragraphs(questions, paragraphs, q_vectors, p_vectors)
    out: list[Pair] = []
    for q, s, o in zip(questions, same, other, strict=True):
        out += pairs_for(q, paragraphs, s, o, rng)
    return out


def encode_pairs(tokens: Tokens, pairs: list[Pair]) -> list[tuple[Encoded, int, int]]:
    """Each pair encoded, with the word-piece positions of its answer's first and last piece
    (-1, -1 when it has none or the sentence was cut before it)."""
    out = []
    for p in pairs:
        e = encode(tokens, p.question, [Sentence(frame_of(p.title, None), p.sentence)])[0]
        first = last = -1
        if p.span[0] >= 0:
            inside = [i for i, (a, b) in enumerate(e.offsets) if a < p.span[1] and b > p.span[0]]
            if inside and e.offsets[-1][1] >= p.span[1]:
                first, last = e.first + inside[0], e.first + inside[-1]
        out.append((e, first, last))
    return out


def batches(lengths: list[int], size: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar length (little padding), in random order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    out = []
    for lo in range(0, len(order), size * 50):
        group = sorted(order[lo : lo + size * 50], key=lambda i: lengths[i])
        out += [group[i : i + size] for i in range(0, len(group), size)]
    rng.shuffle(out)
    return out


def span_loss(
    logits: torch.Tensor, mask: torch.Tensor, target: torch.Tensor, keep: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of the answer's first (or last) piece among the sentence's pieces."""
    if not bool(keep.any()):
        return logits.sum() * 0.0
    masked = logits.float().masked_fill(~mask, -1e4)[keep]
    return torch.nn.functional.cross_entropy(masked, target[keep])


def train(
    model: SentenceScorer,
    data: list[tuple[Encoded, int, int]],
    labels: list[float],
    args: argparse.Namespace,
    rng: random.Random,
) -> None:
    plan = batches([len(e.ids) for e, _, _ in data], args.batch, rng)
    steps = len(plan)
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01
    )
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    bf16 = cpu_has_bf16() and not args.fp32
    log.info("%d steps of %d pairs, bf16 autocast: %s", steps, args.batch, bf16)
    model.train()
    started, running, seen = time.time(), np.zeros(2), 0
    for step, rows in enumerate(plan, 1):
        inputs = {
            k: torch.from_numpy(v) for k, v in batch_inputs([data[i][0] for i in rows]).items()
        }
        y = torch.tensor([labels[i] for i in rows])
        first = torch.tensor([max(data[i][1], 0) for i in rows])
        last = torch.tensor([max(data[i][2], 0) for i in rows])
        keep = torch.tensor([data[i][1] >= 0 for i in rows])
        n = inputs["input_ids"].shape[1]
        mask = torch.zeros(len(rows), n, dtype=torch.bool)
        for r, i in enumerate(rows):
            e = data[i][0]
            mask[r, e.first : e.first + len(e.offsets)] = True
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits, start, end = model(**inputs)
        score = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), y)
        span = (span_loss(start, mask, first, keep) + span_loss(end, mask, last, keep)) / 2
        loss = score + args.span_weight * span
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        running += [float(score), float(span)]
        seen += len(rows)
        if step % 100 == 0 or step == steps:
            log.info(
                "step %d/%d  loss %.3f (span %.3f)  %.1f pairs/s  load %.1f",
                step,
                steps,
                *(running / 100),
                seen / (time.time() - started),
                os.getloadavg()[0],
            )
            running[:] = 0
    model.eval()
    log.info("trained in %.1f min", (time.time() - started) / 60)


def as_reader(model: SentenceScorer, tokens: Tokens) -> Reader:
    """The torch model behind the app's own Reader (its batching and short-answer decoding)."""
    return Reader(lambda inputs: run_torch(model, inputs), tokens, bar=0.0, answer_bar=0.0)


def words_f1(found: str, gold: str) -> float:
    a, b = found.lower().split(), gold.lower().split()
    common = sum(min(a.count(w), b.count(w)) for w in set(a))
    return 0.0 if not common else 2 * common / (len(a) + len(b))


def span_bar(reader: Reader, questions: list[Question], precision: float = 0.85) -> float:
    """The lowest short-answer probability above which the marked words are the answer (words
    F1 >= 0.5 with a gold answer) at least `precision` of the time, on each answerable
    question's gold sentence."""
    found: list[tuple[float, bool]] = []
    for q in questions:
        p = paragraphs_of([q])[q.context]
        gold = gold_sentences(q, p)
        if not gold:
            continue
        reading = reader.read(q.question, [Sentence(frame_of(q.title, None), p.sentence(gold[0]))])[
            0
        ]
        if reading.answer is None:
            continue
        words = p.sentence(gold[0])[slice(*reading.answer)]
        right = max(words_f1(words, t) for _, t in q.answers) >= 0.5
        found.append((reading.answer_probability, right))
    found.sort(reverse=True)
    bar, hits = 1.1, 0
    for n, (probability, right) in enumerate(found, 1):
        hits += right
        if hits / n >= precision:
            bar = probability
    marked = sum(p >= bar for p, _ in found) / max(len(found), 1)
    log.info("validation: short answer marked on %.2f of gold sentences at bar %.3f", marked, bar)
    return bar


def validate(model: SentenceScorer, tokens: Tokens, questions: list[Question]) -> dict[str, float]:
    """On each question's own paragraph and the two of its article most like it: how often the
    best sentence holds the answer (answerable), and the has-answer AUC of the best score; and
    the bar for marking a short answer."""
    from sklearn.metrics import roc_auc_score

    reader = as_reader(model, tokens)
    paragraphs = paragraphs_of(questions)
    qv = embed([q.question for q in questions])
    pv = embed([f"{frame_of(p.title, None)}: {p.text}" for p in paragraphs.values()])
    same, _ = nearest_paragraphs(questions, paragraphs, qv, pv, keep=2)
    right, best, labels = [], [], []
    for q, near in zip(questions, same, strict=True):
        rows = []
        for context in [q.context, *near]:
            p = paragraphs[context]
            for i in range(len(p.sentences)):
                rows.append((context, i, Sentence(frame_of(p.title, None), p.sentence(i))))
        scores = reader.score(q.question, [s for *_, s in rows])
        top = int(scores.argmax())
        best.append(float(scores[top]))
        labels.append(q.answerable)
        if q.answerable:
            context, i, _ = rows[top]
            right.append(context == q.context and i in gold_sentences(q, paragraphs[context]))
    figures = {
        "best sentence right (answerable)": float(np.mean(right)),
        "has-answer AUC (adversarial unanswerables)": float(roc_auc_score(labels, best)),
        "span_bar": span_bar(reader, [q for q in questions if q.answerable]),
    }
    for name, value in figures.items():
        log.info("validation: %s %.3f", name, value)
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pairs", type=int, default=0, help="train on a sample of this many (0: all)")
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--span-weight", type=float, default=0.5)
    p.add_argument("--val-questions", type=int, default=600)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--fp32", action="store_true", help="no bf16 autocast even where the CPU has it")
    p.add_argument("--out", type=Path, default=Path("/tmp/reader.safetensors"))
    p.add_argument("--eval-only", action="store_true", help="validate --out again, store figures")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    tokens = make_tokens()
    if args.eval_only:
        model = load_scorer(args.out, base_model_path())
        save_figures(model, tokens, args, weights_metadata(args.out))
        return
    squad1, _ = split_squad1(args.seed)
    questions = squad1 + read_questions(SQUAD2_TRAIN)
    pairs = make_pairs(questions, rng)
    if args.pairs:
        pairs = rng.sample(pairs, min(args.pairs, len(pairs)))
    kinds: dict[str, int] = {}
    for pair in pairs:
        kinds[pair.kind] = kinds.get(pair.kind, 0) + 1
    log.info("%d questions, %d pairs: %s", len(questions), len(pairs), kinds)
    data = encode_pairs(tokens, pairs)
    model = build_scorer(base_model_path())
    for name, param in model.named_parameters():
        param.requires_grad = name not in FROZEN
    train(model, data, [pair.label for pair in pairs], args, rng)
    meta = {k: str(v) for k, v in vars(args).items()} | {"pairs": str(len(pairs))}
    save_file(trained_state(model), str(args.out), metadata=meta)
    log.info("saved %s (%.1f MB)", args.out, args.out.stat().st_size / 1e6)
    save_figures(model, tokens, args, meta)


def save_figures(
    model: SentenceScorer, tokens: Tokens, args: argparse.Namespace, meta: dict[str, str]
) -> None:
    """Validate on SQuAD 2.0's validation articles and keep the figures (and the short-answer
    bar) in the weights file's metadata."""
    val = read_questions(SQUAD2_VALIDATION)
    val = random.Random(args.seed).sample(val, min(args.val_questions or len(val), len(val)))
    figures = validate(model.eval(), tokens, val)
    meta = meta | {k: f"{v:.4f}" for k, v in figures.items()}
    save_file(trained_state(model), str(args.out), metadata=meta)


if __name__ == "__main__":
    main()

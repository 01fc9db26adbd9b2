"""The passage reader experiment (not shipped): MiniLM reading a question with a whole passage,
a "no answer" choice against its sentences plus a span head (train/passage.py), trained on the
SQuAD 2.0 dev re-split in ../shared/data/squad2. On the validation split it read worse than the
cosine baseline after one pass (train/README.md); the shipped reader is train/scorer.py's.
Its data helpers (windows, retrieved-like passages, thresholds) are shared with train/scorer.py.

    .venv/bin/python -m train.reader            # ~45 min: /tmp/passage-reader.safetensors
    .venv/bin/python -m train.reader --quick    # a few minutes, to check that everything runs
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import os
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from safetensors.torch import save_file

from app.answering.reader import Tokens, base_model_path
from app.answering.sentences import split_sentences
from train.passage import (
    FROZEN,
    WEIGHTS,
    Features,
    Passage,
    Reader,
    ReaderModel,
    batch_inputs,
    build_model,
    featurise,
    load_model,
    trained_state,
)

log = logging.getLogger("train.reader")
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad2"
WINDOW_TOKENS = 200  # the app's chunks hold at most 200 word pieces
HARD_NEGATIVE_POOL = 5  # other windows of the article most like the question
WH_WORDS = frozenset("what which who whom whose when where why how".split())
AUXILIARIES = frozenset("is are was were do does did has have had will would can could".split())


@dataclass(frozen=True)
class Item:
    """A SQuAD question with its paragraph; answers are (start, text) in the paragraph."""

    qid: str
    title: str
    context: str
    question: str
    answers: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Window:
    """Consecutive sentences of a paragraph, at most WINDOW_TOKENS word pieces: a chunk."""

    title: str
    context: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]  # offsets into the window's text

    @property
    def passage(self) -> Passage:
        return Passage(self.title, None, self.context[self.start : self.end], list(self.sentences))


@dataclass(frozen=True)
class Example:
    """A question read with one window; `sentences` hold a gold answer (none: no answer)."""

    features: Features
    sentences: tuple[int, ...]
    span: tuple[int, int]  # token positions of the first gold answer; (0, 0): no answer


def run_torch(model: torch.nn.Module, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    with torch.inference_mode():
        out = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    return [t.float().numpy() for t in out]


def as_tensors(features: list[Features]) -> dict[str, torch.Tensor]:
    """A padded batch as the model takes it."""
    return {k: torch.from_numpy(v) for k, v in batch_inputs(features).items()}


def read_items(path: Path) -> list[Item]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [
        Item(
            r["id"],
            r["title"],
            r["context"],
            r["question"],
            tuple((int(a["start"]), str(a["text"])) for a in r["answers"]),
        )
        for r in rows
    ]


def make_windows(tokenizer: Tokens, title: str, context: str) -> list[Window]:
    """The paragraph cut at sentence boundaries into windows of at most WINDOW_TOKENS."""
    spans = split_sentences(context)
    counts = [tokenizer.count(context[s:e]) for s, e in spans]
    groups: list[list[tuple[int, int]]] = [[]]
    used = 0
    for span, count in zip(spans, counts, strict=True):
        if groups[-1] and used + count > WINDOW_TOKENS:
            groups.append([])
            used = 0
        groups[-1].append(span)
        used += count
    out = []
    for group in groups:
        start, end = group[0][0], group[-1][1]
        inner = tuple((s - start, e - start) for s, e in group)
        out.append(Window(title, context, start, end, inner))
    return out


def gold(item: Item, window: Window) -> tuple[tuple[int, ...], tuple[int, int] | None]:
    """Sentences of `window` where a gold answer starts, and the first such answer's offsets."""
    if window.context != item.context:
        return (), None
    starts = [(s - window.start, t) for s, t in item.answers if window.start <= s < window.end]
    hits = {i for i, (a, b) in enumerate(window.sentences) for s, _ in starts if a <= s < b}
    span = (starts[0][0], starts[0][0] + len(starts[0][1])) if starts else None
    return tuple(sorted(hits)), span


def token_span(features: Features, span: tuple[int, int] | None) -> tuple[int, int]:
    if span is None:
        return 0, 0
    inside = [i for i, (a, b) in enumerate(features.offsets) if a < span[1] and b > span[0]]
    return (inside[0], inside[-1]) if inside else (0, 0)


def make_example(tokenizer: Tokens, question: str, item: Item, window: Window) -> Example:
    features = featurise(tokenizer, question, window.passage)
    sentences, span = gold(item, window)
    read = set(features.sentence_of)
    sentences = tuple(i for i in sentences if i in read)  # an answer cut off is not readable
    first, last = token_span(features, span) if sentences else (0, 0)
    return Example(features, sentences, (first, last))


def follow_up(question: str, previous: str) -> str:
    """`question` as the app's follow-up rule rewrites it after `previous` (app/followup.py)."""
    tokens = previous.strip().rstrip("?").split()
    while tokens and (tokens[0].lower() in WH_WORDS or tokens[0].lower() in AUXILIARIES):
        tokens = tokens[1:]
    return f"{question.rstrip('?').rstrip()} (regarding: {' '.join(tokens)})?"


@functools.cache
def sentence_model() -> Any:
    from sentence_transformers import SentenceTransformer

    from app.answering.reader import base_model_path

    return SentenceTransformer(str(base_model_path()), device="cpu")


def embed(texts: list[str]) -> np.ndarray:
    """Normalised sentence embeddings from the packaged MiniLM (what search uses)."""
    vectors = sentence_model().encode(
        texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors)


@dataclass(frozen=True)
class Corpus:
    """Questions and every window of their articles, with embeddings for retrieval."""

    items: list[Item]
    windows: list[Window]
    own: list[list[int]]  # each question's own windows
    similar: list[list[int]]  # each question's other windows of its article, most similar first


def make_corpus(tokenizer: Tokens, items: list[Item]) -> Corpus:
    paragraphs = list(dict.fromkeys((i.title, i.context) for i in items))
    windows: list[Window] = []
    for title, context in paragraphs:
        windows += make_windows(tokenizer, title, context)
    vectors = embed([w.context[w.start : w.end] for w in windows])
    questions = embed([i.question for i in items])
    own, similar = [], []
    for item, q in zip(items, questions, strict=True):
        mine = [k for k, w in enumerate(windows) if w.context == item.context]
        others = [k for k, w in enumerate(windows) if w.title == item.title and k not in mine]
        order = np.argsort(-(vectors[others] @ q), kind="stable")
        own.append(mine)
        similar.append([others[int(j)] for j in order])
    return Corpus(items, windows, own, similar)


def six_passages(corpus: Corpus, q: int) -> list[int]:
    """The question's own windows and the other windows most like it: six in all."""
    own = corpus.own[q]
    return own + corpus.similar[q][: max(6 - len(own), 0)]


def training_examples(
    tokenizer: Tokens, corpus: Corpus, negatives: int, follow_ups: float, seed: int
) -> list[Example]:
    """Each question with its own windows, plus `negatives` hard negatives drawn from the
    article's most similar other windows (never one holding a gold answer's text)."""
    rng = random.Random(seed)
    by_paragraph: dict[str, list[Item]] = {}
    for item in corpus.items:
        by_paragraph.setdefault(item.context, []).append(item)
    out = []
    for q, item in enumerate(corpus.items):
        question = item.question
        if rng.random() < follow_ups:
            question = follow_up(question, rng.choice(by_paragraph[item.context]).question)
        texts = [t.lower() for _, t in item.answers]
        pool = [
            k
            for k in corpus.similar[q][:HARD_NEGATIVE_POOL]
            if not any(t in corpus.windows[k].passage.text.lower() for t in texts)
        ]
        chosen = corpus.own[q] + rng.sample(pool, min(negatives, len(pool)))
        out += [make_example(tokenizer, question, item, corpus.windows[k]) for k in chosen]
    return out


def plan_batches(examples: list[Example], size: int, steps: int, rng: random.Random) -> list[Any]:
    """`steps` batches of similar lengths (less padding), in shuffled order, epoch after epoch."""
    out: list[list[Example]] = []
    while len(out) < steps:
        order = list(range(len(examples)))
        rng.shuffle(order)
        epoch = []
        for i in range(0, len(order), size * 50):
            chunk = sorted(
                order[i : i + size * 50], key=lambda k: len(examples[k].features.input_ids)
            )
            epoch += [
                [examples[k] for k in chunk[j : j + size]] for j in range(0, len(chunk), size)
            ]
        rng.shuffle(epoch)
        out += epoch
    return out[:steps]


def loss_of(
    model: ReaderModel, batch: list[Example], design: str, bf16: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """The loss to train (and the sentence and span losses, to watch). Sentence head:
    -log P(a gold sentence, or "no answer"); span head: SQuAD 2 start/end."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        outputs = model(**as_tensors([e.features for e in batch]))
    logits, start, end = (t.float() for t in outputs)
    target = torch.zeros_like(logits, dtype=torch.bool)
    for row, e in enumerate(batch):
        target[row, [i + 1 for i in e.sentences] or [0]] = True
    sentence = (logits.logsumexp(1) - logits.masked_fill(~target, -1e4).logsumexp(1)).mean()
    spans = torch.tensor([e.span for e in batch])
    ce = torch.nn.functional.cross_entropy
    span = (ce(start, spans[:, 0]) + ce(end, spans[:, 1])) / 2
    losses = {"multi": sentence + span, "sentence": sentence, "span": span}
    return losses[design], torch.stack([sentence, span]).detach()


def train(model: ReaderModel, examples: list[Example], args: argparse.Namespace) -> None:
    frozen = set(FROZEN) | {f"bert.encoder.layer.{i}." for i in range(args.freeze_layers)}
    if args.freeze_layers:  # nothing below the first trained layer needs a gradient
        frozen.add("bert.embeddings.")
    for name, p in model.named_parameters():
        p.requires_grad = not any(name.startswith(f) for f in frozen)
    params = [p for p in model.parameters() if p.requires_grad]
    steps = math.ceil(args.epochs * len(examples) / args.batch)
    warm = max(1, steps // 10)
    heads = [p for n, p in model.named_parameters() if p.requires_grad and "bert." not in n]
    body = [p for n, p in model.named_parameters() if p.requires_grad and "bert." in n]
    groups = [{"params": body, "lr": args.lr}, {"params": heads, "lr": args.head_lr}]
    opt = torch.optim.AdamW(groups, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    rng = random.Random(args.seed)
    model.train()
    started, seen, total = time.time(), 0, torch.zeros(2)
    for step, batch in enumerate(plan_batches(examples, args.batch, steps, rng), 1):
        loss, parts = loss_of(model, batch, args.design, args.bf16)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        seen, total = seen + len(batch), total + parts
        if step % 50 == 0 or step == steps:
            rate = seen / (time.time() - started)
            sentence, span = (total / (step % 50 or 50)).tolist()
            log.info(
                "step %d/%d  loss: sentence %.3f span %.3f  %.1f ex/s  load %.1f",
                *(step, steps, sentence, span, rate, os.getloadavg()[0]),
            )
            total = torch.zeros(2)
    model.eval()


@dataclass(frozen=True)
class Read:
    """A scorer's view of one passage: P(it answers) and a score per sentence."""

    answer: float
    sentences: list[float]


def reads_of(
    logits: torch.Tensor, start: torch.Tensor, end: torch.Tensor, f: Features
) -> dict[str, Read]:
    """The sentence head's reading and the span head's (best start + end within a sentence vs
    [CLS]), each as a softmax over [no answer, sentences]."""
    head = torch.softmax(logits[: f.n_sentences + 1], 0)
    which = torch.tensor(f.sentence_of[: len(start)])
    per = [
        start[: len(which)][which == i].max() + end[: len(which)][which == i].max()
        if bool((which == i).any())
        else torch.tensor(-1e4)
        for i in range(f.n_sentences)
    ]
    span = torch.softmax(torch.stack([start[0] + end[0], *per]), 0)
    out = {
        "sentence": Read(1 - float(head[0]), head[1:].tolist()),
        "span": Read(1 - float(span[0]), span[1:].tolist()),
    }
    mix = [(a + b) / 2 for a, b in zip(head[1:].tolist(), span[1:].tolist(), strict=True)]
    out["mix"] = Read((out["sentence"].answer + out["span"].answer) / 2, mix)
    return out


def predict(
    model: torch.nn.Module, tokenizer: Tokens, pairs: list[tuple[str, Window]]
) -> list[dict[str, Read]]:
    features = [featurise(tokenizer, q, w.passage) for q, w in pairs]
    order = sorted(range(len(pairs)), key=lambda k: len(features[k].input_ids))
    out: dict[int, dict[str, Read]] = {}
    with torch.inference_mode():
        for i in range(0, len(order), 32):
            rows = order[i : i + 32]
            logits, start, end = model(**as_tensors([features[k] for k in rows]))
            for j, k in enumerate(rows):
                out[k] = reads_of(logits[j], start[j], end[j], features[k])
    return [out[k] for k in range(len(pairs))]


def holds_gold(item: Item, window: Window, sentence: int) -> bool:
    """Whether a gold answer (any annotator's) starts inside the window's sentence."""
    a, b = window.sentences[sentence]
    inside = [window.start + a <= s < window.start + b for s, _ in item.answers]
    return window.context == item.context and any(inside)


Outcomes = tuple[np.ndarray, np.ndarray, np.ndarray]


def outcomes(corpus: Corpus, reads: list[list[tuple[int, Read]]]) -> Outcomes:
    """Per question: max P(answer) over its passages, whether it has an answer, and whether
    the best-scored sentence over its passages holds a gold answer."""
    scores, labels, right = [], [], []
    for item, mine in zip(corpus.items, reads, strict=True):
        scores.append(max(r.answer for _, r in mine))
        labels.append(bool(item.answers))
        best = max(((s, k, i) for k, r in mine for i, s in enumerate(r.sentences)), default=None)
        right.append(best is not None and holds_gold(item, corpus.windows[best[1]], best[2]))
    return np.array(scores), np.array(labels), np.array(right)


def best_threshold(scores: np.ndarray, labels: np.ndarray, right: np.ndarray | None) -> float:
    """The threshold with the best answer/refuse accuracy (or end-to-end, given `right`)."""
    cuts = np.unique(scores)
    cuts = np.concatenate([(cuts[:-1] + cuts[1:]) / 2, [cuts[-1] + 1e-6]])
    good = labels if right is None else right

    def accuracy(t: float) -> float:
        return float(np.mean(np.where(scores >= t, good, ~labels)))

    return float(max(cuts, key=accuracy))


def table(o: Outcomes, thresholds: list[float]) -> list[str]:
    scores, labels, right = o
    lines = ["  thr    answered  right-sent  refused  decision-acc  end-to-end"]
    for t in thresholds:
        said = scores >= t
        e2e = np.where(said, right, ~labels).mean()
        lines.append(
            f"  {t:.3f}  {said[labels].mean():8.3f}  {(said & right)[labels].mean():10.3f}  "
            f"{(~said)[~labels].mean():7.3f}  {(said == labels).mean():12.3f}  {e2e:10.3f}"
        )
    return lines


def summary(name: str, o: Outcomes) -> str:
    from sklearn.metrics import roc_auc_score

    scores, labels, right = o
    t = best_threshold(scores, labels, None)
    acc = ((scores >= t) == labels).mean()
    return (
        f"{name:28s} AUC {roc_auc_score(labels, scores):.3f}  has-answer acc {acc:.3f} "
        f"@ {t:.3f}  best sentence right (answerable) {right[labels].mean():.3f}"
    )


def baseline(corpus: Corpus, pairs: list[tuple[int, int]]) -> dict[str, list[Read]]:
    """Today's signal: MiniLM cosine of the question with each sentence, plain or framed by the
    title (`answer` is the passage's best sentence's cosine)."""
    spans = [(k, a, b) for k, w in enumerate(corpus.windows) for a, b in w.sentences]
    texts = [corpus.windows[k].passage.text[a:b] for k, a, b in spans]
    titles = [corpus.windows[k].title for k, _, _ in spans]
    questions = embed([i.question for i in corpus.items])
    out: dict[str, list[Read]] = {}
    for name, vectors in (
        ("cosine, plain sentence", embed(texts)),
        (
            "cosine, title: sentence",
            embed([f"{t}: {s}" for t, s in zip(titles, texts, strict=True)]),
        ),
    ):
        first = {k: i for i, (k, _, _) in reversed(list(enumerate(spans)))}
        reads = []
        for q, k in pairs:
            n = len(corpus.windows[k].sentences)
            cos = (vectors[first[k] : first[k] + n] @ questions[q]).tolist()
            reads.append(Read(max(cos), cos))
        out[name] = reads
    return out


def latency(model: torch.nn.Module, tokenizer: Tokens, corpus: Corpus) -> str:
    """p50/p95 of Reader.read over the 50 questions with the longest six passages."""
    reader = Reader(lambda inputs: run_torch(model, inputs), tokenizer)
    sets = [
        (q, [corpus.windows[k].passage for k in six_passages(corpus, q)])
        for q in range(len(corpus.items))
    ]
    size = {q: sum(tokenizer.count(p.text) for p in ps) for q, ps in sets}
    sets = sorted(sets, key=lambda s: -size[s[0]])[:50]
    for q, ps in sets[:5]:
        reader.read(corpus.items[q].question, ps)
    times = []
    for q, ps in sets:
        t = time.perf_counter()
        reader.read(corpus.items[q].question, ps)
        times.append(1000 * (time.perf_counter() - t))
    words = np.mean([size[q] / len(ps) for q, ps in sets])
    return (
        f"p50 {np.percentile(times, 50):.0f} ms  p95 {np.percentile(times, 95):.0f} ms "
        f"(6 passages of {words:.0f} word pieces on average; load {os.getloadavg()[0]:.1f})"
    )


def evaluate(model: torch.nn.Module, tokenizer: Tokens, corpus: Corpus, baselines: bool) -> float:
    """Print the validation figures: own paragraph, then the six-passage setting. Returns the
    answer bar: the sentence head's threshold with the best end-to-end accuracy over six
    passages (answered with a right sentence, or refused when there is no answer)."""
    bar = 0.5
    n = len(corpus.items)
    pairs = [(q, k) for q in range(n) for k in six_passages(corpus, q)]
    found = predict(
        model, tokenizer, [(corpus.items[q].question, corpus.windows[k]) for q, k in pairs]
    )
    scorers: dict[str, list[Read]] = {
        name: [f[name] for f in found] for name in ("sentence", "span", "mix")
    }
    if baselines:
        scorers |= baseline(corpus, pairs)
    for name, reads in scorers.items():
        per_q: list[list[tuple[int, Read]]] = [[] for _ in range(n)]
        for (q, k), r in zip(pairs, reads, strict=True):
            per_q[q].append((k, r))
        own = [[(k, r) for k, r in mine if k in corpus.own[q]] for q, mine in enumerate(per_q)]
        log.info("%s", summary(f"{name} / own paragraph", outcomes(corpus, own)))
        six = outcomes(corpus, per_q)
        log.info("%s", summary(f"{name} / six passages", six))
        if name in ("sentence", "mix"):
            best = best_threshold(*six)
            bar = best if name == "sentence" else bar
            log.info(
                "six passages, %s: end-to-end best threshold %.3f\n%s",
                name,
                best,
                "\n".join(table(six, sorted({0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, round(best, 3)}))),
            )
    return bar


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a small smoke run (not the shipped file)")
    p.add_argument("--design", choices=["multi", "sentence", "span"], default="multi")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--negatives", type=int, default=1, help="hard negatives per question")
    p.add_argument("--follow-ups", type=float, default=0.1, help="share of rewritten questions")
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--head-lr", type=float, default=1e-3, help="for the new heads")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--freeze-layers", type=int, default=3, help="lower layers left as packaged")
    p.add_argument("--bf16", action="store_true", help="train under bf16 autocast (faster)")
    p.add_argument("--train-questions", type=int, default=0, help="a sample of them (0: all)")
    p.add_argument("--val-questions", type=int, default=0, help="a sample of them (0: all)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=WEIGHTS)
    p.add_argument("--eval-only", action="store_true", help="evaluate --out, do not train")
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--speed", action="store_true", help="latency, fp32 and dynamic int8")
    p.add_argument("--data", type=Path, default=DATA)
    args = p.parse_args()
    if args.quick:
        args.train_questions, args.val_questions, args.epochs = 300, 200, 1.0
        if args.out == WEIGHTS:
            args.out = Path("/tmp/reader-quick.safetensors")
    return args


def sample(items: list[Item], n: int, seed: int) -> list[Item]:
    return items if not n else sorted(random.Random(seed).sample(items, n), key=items.index)


def fit(tokenizer: Tokens, args: argparse.Namespace) -> ReaderModel:
    """Train from the packaged model and save the weights file."""
    items = sample(read_items(args.data / "train.jsonl"), args.train_questions, args.seed)
    corpus = make_corpus(tokenizer, items)
    examples = training_examples(tokenizer, corpus, args.negatives, args.follow_ups, args.seed)
    answering = sum(bool(e.sentences) for e in examples)
    log.info("%d questions, %d examples (%d with an answer)", len(items), len(examples), answering)
    torch.manual_seed(args.seed)
    model = build_model(base_model_path())
    started = time.time()
    train(model, examples, args)
    log.info("trained in %.1f min (load %.1f)", (time.time() - started) / 60, os.getloadavg()[0])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {k: str(v) for k, v in vars(args).items()}
    save_file(trained_state(model), str(args.out), metadata=meta)
    log.info("wrote %s (%.1f MB)", args.out, args.out.stat().st_size / 1e6)
    return model


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    transformers.logging.set_verbosity_error()
    warnings.filterwarnings("ignore", module="torch.ao")
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    started = time.time()
    tokenizer = Tokens()
    model = load_model(args.out, base_model_path()) if args.eval_only else fit(tokenizer, args)
    items = sample(read_items(args.data / "validation.jsonl"), args.val_questions, args.seed)
    corpus = make_corpus(tokenizer, items)
    bar = evaluate(model, tokenizer, corpus, not args.no_baselines)
    if not args.eval_only and not args.val_questions:  # the bar goes with the shipped weights
        meta = {k: str(v) for k, v in vars(args).items()} | {"answer_bar": f"{bar:.4f}"}
        save_file(trained_state(model), str(args.out), metadata=meta)
        log.info("answer bar %.4f (chosen on the validation split) stored in %s", bar, args.out)
    if args.speed:
        log.info("latency, torch fp32: %s", latency(model, tokenizer, corpus))
        int8 = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        evaluate(int8, tokenizer, corpus, False)
        log.info("latency, torch dynamic int8: %s", latency(int8, tokenizer, corpus))
    log.info("all done in %.1f min", (time.time() - started) / 60)


if __name__ == "__main__":
    main()

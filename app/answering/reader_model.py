"""The reader as a torch model: what `train/reader.py` trains, and what `sourcebook prepare`
exports to ONNX for the answerer (which then runs without torch). Nothing on the path of a
question imports this module once the export exists."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn
from transformers import BertConfig, BertModel

log = logging.getLogger(__name__)
# Not trained, not shipped: taken from the packaged model at load time (half the parameters).
FROZEN = ("bert.embeddings.word_embeddings.weight",)
INPUTS = ("input_ids", "token_type_ids", "attention_mask")


class SentenceScorer(nn.Module):
    """A cross-encoder: MiniLM reading `[CLS] question [SEP] frame: sentence [SEP]`; one logit
    (does this sentence answer the question) from an MLP over [CLS], and a start and an end
    logit per word piece (which words are the answer). The attention mask is made additive
    here: transformers' own mask helpers cannot be traced for export."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.bert = BertModel(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
        self.score = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))
        self.span = nn.Linear(hidden, 2)

    def forward(
        self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        states = self.bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        blocked = 1.0 - attention_mask[:, None, None, :].to(states.dtype)
        states = self.bert.encoder(
            states, attention_mask=blocked * torch.finfo(states.dtype).min
        ).last_hidden_state
        logits: torch.Tensor = self.score(states[:, 0]).squeeze(-1)
        start, end = self.span(states).unbind(-1)
        return logits, start, end


def build_scorer(path: Path) -> SentenceScorer:
    """The scorer over the packaged MiniLM's weights (`path`), its head freshly initialised."""
    model = SentenceScorer(BertConfig.from_pretrained(str(path), local_files_only=True))
    base = load_file(str(path / "model.safetensors"))
    state = {f"bert.{k}": v for k, v in base.items() if not k.startswith("pooler.")}
    state = {k: v for k, v in state.items() if k in model.state_dict()}
    missing = model.load_state_dict(state, strict=False).missing_keys
    if any(k.startswith("bert.") for k in missing):
        raise ValueError(f"the packaged model lacks {missing}")
    return model


def trained_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """What the weights file holds: every tensor but the frozen ones, in fp16."""
    state = model.state_dict()
    return {k: v.detach().half().contiguous() for k, v in state.items() if k not in FROZEN}


def load_scorer(weights: Path, base: Path) -> SentenceScorer:
    """The packaged MiniLM (`base`) with the fine-tuned weights from `weights` on top, in eval
    mode."""
    model = build_scorer(base)
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys or set(result.missing_keys) - set(FROZEN):
        raise ValueError(f"{weights} does not fit the reader: {result}")
    return model.eval()


@contextlib.contextmanager
def _quietly() -> Iterator[None]:
    captured = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(captured):
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(captured):
            yield
    if captured.getvalue().strip():
        log.debug("exporter output:\n%s", captured.getvalue())


def export_onnx(weights: Path, base: Path, target: Path, example: dict[str, np.ndarray]) -> None:
    """The reader as ONNX (dynamic batch and length), written atomically; `example` is a padded
    batch to trace it with."""
    model = load_scorer(weights, base)
    inputs = tuple(torch.from_numpy(example[name]) for name in INPUTS)
    axes: dict[str, Any] = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    axes |= {"logits": {0: "batch"}, "start_logits": {0: "batch", 1: "tokens"}}
    axes["end_logits"] = {0: "batch", 1: "tokens"}
    partial = target.with_suffix(".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), _quietly():
        torch.onnx.export(
            model,
            inputs,
            str(partial),
            input_names=list(INPUTS),
            output_names=["logits", "start_logits", "end_logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    partial.replace(target)


def run_torch(model: nn.Module, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The model's outputs for a batch, as NumPy (the export's reference)."""
    with torch.inference_mode():
        out = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    return [np.asarray(t.float().numpy()) for t in out]

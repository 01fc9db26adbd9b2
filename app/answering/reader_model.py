"""The reader as a torch model: what `train/reader.py` trains, and what `sourcebook prepare`
exports to ONNX for the answerer (which then runs without torch). Nothing on the path of a
question imports this module once the export exists."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from transformers import BertConfig, BertModel

from store.models.export import bert_states

# Not trained, not shipped: taken from the packaged model at load time (half the parameters).
FROZEN = ("bert.embeddings.word_embeddings.weight",)


class SentenceScorer(nn.Module):
    """A cross-encoder: MiniLM reading `[CLS] question [SEP] frame: sentence [SEP]`; one logit
    (does this sentence answer the question) from an MLP over [CLS], and a start and an end
    logit per word piece (which words are the answer)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.bert = BertModel(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
        self.score = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))
        self.span = nn.Linear(hidden, 2)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        states = bert_states(self.bert, input_ids, attention_mask, token_type_ids)
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


def load_scorer(weights: Path, base: Path) -> SentenceScorer:
    """The packaged MiniLM (`base`) with the fine-tuned weights from `weights` on top, in eval
    mode."""
    model = build_scorer(base)
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys or set(result.missing_keys) - set(FROZEN):
        raise ValueError(f"{weights} does not fit the reader: {result}")
    return model.eval()

"""Exports (torch is needed here, never at run time): a torch module to ONNX, then ONNX Runtime's
dynamic int8, OpenVINO and OpenVINO's static int8. Nothing on the path of a question or an
ingest imports this module once the exports exist."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from store.models.tokens import INPUTS, Tokens

log = logging.getLogger(__name__)


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Keep exporters' progress bars, tracer warnings and notes (meant for model developers) off
    the user's terminal; they go to the debug log instead."""
    captured = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(captured),
        contextlib.redirect_stderr(captured),
    ):
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            if captured.getvalue().strip():
                log.debug("exporter output:\n%s", captured.getvalue())


def bert_states(
    bert: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
) -> torch.Tensor:
    """BERT's embeddings and encoder with an additive mask built here: transformers 5's own mask
    helpers cannot be traced (they take a traced length for a cache position)."""
    states = bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
    blocked = 1.0 - attention_mask[:, None, None, :].to(states.dtype)
    out: torch.Tensor = bert.encoder(
        states, attention_mask=blocked * torch.finfo(states.dtype).min
    ).last_hidden_state
    return out


class StatesOnly(torch.nn.Module):
    """A transformer's token states (the embedder's export: pooling stays in NumPy)."""

    def __init__(self, bert: Any) -> None:
        super().__init__()
        self.bert = bert

    @classmethod
    def of(cls, model_path: Path) -> StatesOnly:
        """The transformer of a sentence-transformers folder."""
        from transformers import AutoModel

        with quietly():  # a load report of unused keys (position_ids): not the user's concern
            model = AutoModel.from_pretrained(
                str(model_path), attn_implementation="eager", local_files_only=True
            )
        return cls(model)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        return bert_states(self.bert, input_ids, attention_mask, token_type_ids)


def export_onnx(
    module: torch.nn.Module,
    example: dict[str, np.ndarray],
    outputs: Mapping[str, tuple[str, ...]],
    target: Path,
) -> None:
    """`module` (called with INPUTS, in order) as ONNX, written whole or not at all. `example` is
    a batch to trace it with; `outputs` names each output with its axes ("batch", "tokens", ...)
    and the inputs are batch by tokens, all of any size."""
    args = tuple(torch.from_numpy(example[name]) for name in INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    axes |= {name: dict(enumerate(dims)) for name, dims in outputs.items()}
    partial = target.with_name(f".{target.name}.partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), quietly():
        torch.onnx.export(
            module.eval(),
            args,
            str(partial),
            input_names=list(INPUTS),
            output_names=list(outputs),
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    partial.replace(target)


def quantize_onnx(source: Path, target: Path) -> None:
    """Dynamic int8: weights per channel, activations at run time; only the products with a
    constant weight matrix (quantizing attention's activation-by-activation products as well
    costs agreement: mean cosine 0.95 against 0.995 measured here)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quietly():
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"MatMulConstBOnly": True},
        )


def convert_openvino(source: Path, target: Path) -> None:
    import openvino

    openvino.save_model(openvino.convert_model(str(source)), str(target), compress_to_fp16=False)


def quantize_openvino(source: Path, target: Path, tokens: Tokens, texts: list[str]) -> None:
    """Static int8 by NNCF, calibrated on `texts` (local windows of chunk size)."""
    import nncf
    import openvino

    model = openvino.convert_model(str(source))
    data = nncf.Dataset(texts, lambda text: tokens.batch([text]))
    with quietly():
        nncf.set_log_level(logging.ERROR)
        quantized = nncf.quantize(
            model, data, model_type=nncf.ModelType.TRANSFORMER, subset_size=len(texts)
        )
    openvino.save_model(quantized, str(target))

"""The exports themselves (called by store/prepare.py): the packaged model to ONNX with torch, then
to ONNX int8, OpenVINO and OpenVINO int8. Heavy imports live here and nowhere on the run path."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from store.encoders import Tokens

log = logging.getLogger(__name__)
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


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


def export_onnx(model_path: Path, target: Path) -> None:
    """The transformer of a sentence-transformers folder as ONNX: token ids in, token states out
    (pooling stays in NumPy). Dynamic batch and length."""
    from transformers import AutoModel

    with quietly():  # a load report of unused keys (position_ids): not the user's concern
        model = AutoModel.from_pretrained(
            str(model_path), attn_implementation="eager", local_files_only=True
        )
    wrapper = StatesOnly(model).eval()
    example = Tokens(model_path).batch(["An example sentence.", "Another, longer example."])
    args = tuple(torch.from_numpy(example[name]) for name in INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*INPUTS, "last_hidden_state"]}
    with torch.no_grad(), quietly():
        torch.onnx.export(
            wrapper,
            args,
            str(target),
            input_names=INPUTS,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


class StatesOnly(torch.nn.Module):
    """BERT's embeddings and encoder with an additive mask built here: transformers 5's own mask
    helpers cannot be traced (they take a traced length for a cache position)."""

    def __init__(self, bert: Any) -> None:
        super().__init__()
        self.bert = bert

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        states = self.bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        blocked = 1.0 - attention_mask[:, None, None, :].to(states.dtype)
        additive = blocked * torch.finfo(states.dtype).min
        out: torch.Tensor = self.bert.encoder(states, attention_mask=additive).last_hidden_state
        return out


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

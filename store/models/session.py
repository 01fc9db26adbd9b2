"""The session that runs an exported model on the CPU: ONNX Runtime for `.onnx`, OpenVINO for
`.xml`. Inputs the model does not take are left out; outputs come in the export's order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Run = Callable[[dict[str, np.ndarray]], list[np.ndarray]]  # inputs by name -> outputs


def open_session(path: Path) -> Run:
    """`path`'s model as a batch-to-outputs function, safe to call from many threads."""
    return _openvino(path) if path.suffix == ".xml" else _onnx(path)


def _onnx(path: Path) -> Run:
    """ONNX Runtime on the CPU (named explicitly: the PyPI wheel lists other providers first)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings are about graph internals
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}

    def run(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        out: Any = session.run(None, {k: v for k, v in inputs.items() if k in names})
        return [np.asarray(x) for x in out]

    return run


def _openvino(path: Path) -> Run:
    """OpenVINO compiled for the CPU with its default settings (bf16 where the CPU has it)."""
    import openvino

    compiled = openvino.Core().compile_model(str(path), "CPU")
    names = {i.get_any_name() for i in compiled.inputs}
    lock = threading.Lock()  # a compiled model's own infer request is not thread-safe

    def run(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        with lock:
            out: Any = compiled({k: v for k, v in inputs.items() if k in names})
        return [np.asarray(out[i]) for i in range(len(compiled.outputs))]

    return run

"""What training reads and writes of the torch reader: the state the weights file holds, and
the torch model run as the app's `Reader` runs its export (for validation and for checking the
export against it)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from app.answering.reader_model import FROZEN


def trained_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """What the weights file holds: every tensor but the frozen ones, in fp16."""
    state = model.state_dict()
    return {k: v.detach().half().contiguous() for k, v in state.items() if k not in FROZEN}


def run_torch(model: nn.Module, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The model's outputs for a batch, as NumPy (the export's reference)."""
    with torch.inference_mode():
        out = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    return [np.asarray(t.float().numpy()) for t in out]

"""Mixed precision and `torch.compile` for the built-in loop: `train.precision`, `train.compile`.

`32` is the plain float32 step, untouched (the seed task's speed depends on it); `bf16` runs the
forward pass under bfloat16 autocast (CUDA or CPU); `16` under float16 autocast with a gradient
scaler, CUDA only (float16 gradients underflow without one, and the scaler is CUDA's). Divergence
is still caught: the loss is computed in float32 under autocast, so a nan/inf loss reaches the
loop's check as before.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import nn

from autolearn.errors import ResourceError

DTYPES: dict[str, torch.dtype] = {"bf16": torch.bfloat16, "16": torch.float16}


class Mixed:
    """Autocast for one device and precision, and the backward/step that goes with it."""

    def __init__(self, precision: str, device: torch.device) -> None:
        if precision == "16" and device.type != "cuda":
            raise ResourceError("train.precision 16 needs a CUDA GPU (float16 autocast with a grad scaler); "
                                "this trial runs on the CPU: use bf16 or 32")
        self.device_type = device.type
        self.dtype = DTYPES[precision]
        self.scaler: Any = torch.amp.GradScaler("cuda") if precision == "16" else None

    def autocast(self) -> AbstractContextManager[Any]:
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)  # skips the step when a gradient is inf/nan (the scale then drops)
        self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)


def make_mixed(precision: Any, device: torch.device) -> Mixed | None:
    """None for float32 (the plain step); a space may give the precision as the number 16 or 32."""
    precision = str(precision)
    return None if precision == "32" else Mixed(precision, device)


def compiled(model: nn.Module, compile_it: bool) -> Callable[..., torch.Tensor]:
    """The training forward: `torch.compile(model)` when asked, else the model itself. The model
    (not the compiled wrapper) keeps the weights, so checkpoints read the same either way."""
    if not compile_it:
        return model
    return torch.compile(model)

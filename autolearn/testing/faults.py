"""A test-only model that fails for real: the retry, resume and timeout paths proven under real faults.

Tests name it by import path, like any user model, so nothing in the spec or the production
trainable knows about faults:

    model: {name: autolearn.testing.faults:faulty_mlp, fault: exit, at_epoch: 2, hidden_units: 8}

It is the built-in `mlp` inside a module whose `train()` (called by the training loop at the start
of every epoch) raises, kills its own worker process with `os._exit` (as an out-of-memory kill
would), sleeps (a slow epoch, for timeouts and for catching a sweep mid-run), or raises torch's
CUDA out-of-memory error (`oom`, every time: the trial ends with status `oom`, even on a CPU). `raise` and `exit`
fire once per trial: a marker file in the trial folder remembers it, so the retry goes on from its
checkpoint and finishes. Outside a trial (the driver building the model to check the spec, or to
score the best one) it never fires: the driver only evaluates, and evaluation never calls `train()`.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Literal

from torch import nn

from autolearn.errors import ConfigError, allowed
from autolearn.training.models import mlp

FAULTS = ("raise", "exit", "slow", "oom")
MARKER = ".autolearn_fault_injected"


class InjectedFault(RuntimeError):
    """Raised by `fault: raise`; a test finds it in the trial's traceback."""


class _FaultyModule(nn.Module):
    """Wraps a network; its `train()` is the fault's trigger, once per epoch of this process."""

    def __init__(self, net: nn.Module, fault: str, at_epoch: int, seconds: float, marker_dir: str | None) -> None:
        super().__init__()
        self.net = net
        self.fault, self.at_epoch, self.seconds = fault, at_epoch, seconds
        self.marker_dir = marker_dir
        self.epochs_started = 0

    def forward(self, x: Any) -> Any:
        return self.net(x)

    def train(self, mode: bool = True) -> _FaultyModule:
        if mode:
            self.epochs_started += 1
            self._maybe_fail(self.epochs_started)
        return super().train(mode)

    def _maybe_fail(self, epoch: int) -> None:
        if epoch < self.at_epoch:
            return
        if self.fault == "slow":
            time.sleep(self.seconds)
            return
        if self.fault == "oom" and epoch == self.at_epoch:  # what a too-small GPU share raises
            import torch

            raise torch.cuda.OutOfMemoryError(f"CUDA out of memory (injected at epoch {epoch})")
        if epoch != self.at_epoch:
            return
        marker = (Path(self.marker_dir) if self.marker_dir else _trial_dir()) / MARKER
        if marker.exists():
            return  # fired already: this is the retry, let it finish
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{self.fault} at epoch {epoch}\n")
        if self.fault == "exit":
            os._exit(1)  # the worker process dies, as on an out-of-memory kill
        raise InjectedFault(f"injected failure at epoch {epoch} (autolearn.testing.faults)")


def _trial_dir() -> Path:
    """The trial's folder: Tune's, or the one a distributed trial's driver gave its Ray Train workers."""
    from autolearn.internals import TRIAL_DIR_ENV

    if os.environ.get(TRIAL_DIR_ENV):
        return Path(os.environ[TRIAL_DIR_ENV])
    from ray import tune

    return Path(tune.get_context().get_trial_dir())


def faulty_mlp(input_shape: tuple[int, ...], n_outputs: int,
               fault: Literal["raise", "exit", "slow", "oom"] = "raise",
               at_epoch: int = 1, seconds: float = 1.0, hidden_units: int = 64, depth: int = 2,
               activation: str = "relu", dropout: float = 0.0, marker_dir: str | None = None) -> nn.Module:
    """The built-in `mlp` that raises, exits or runs slowly from epoch `at_epoch` (count from 1).

    `raise`/`exit` fire once, at the `at_epoch`-th epoch the trial's first process trains;
    `slow` sleeps `seconds` at the start of every epoch from `at_epoch` on, in every process.
    `marker_dir`: where the once-only marker goes instead of the trial's folder (fused members
    train in their group's process, which belongs to no single trial): the first to fire wins.
    """
    if fault not in FAULTS:
        raise ConfigError("model.fault", f"unknown fault {fault!r}; allowed: {allowed(FAULTS)}")
    if isinstance(at_epoch, bool) or not isinstance(at_epoch, int) or at_epoch < 1:
        raise ConfigError("model.at_epoch", f"must be a whole number >= 1, got {at_epoch!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ConfigError("model.seconds", f"must be a number of seconds > 0, got {seconds!r}")
    net = mlp(input_shape, n_outputs, hidden_units=hidden_units, depth=depth, activation=activation,
              dropout=dropout)
    return _FaultyModule(net, fault, at_epoch, float(seconds), marker_dir)

"""Test-only model builders for the reliability tests, named by import path in specs
(`model.name: reliability_models:hanging_mlp`); Ray workers import this module through the
PYTHONPATH that tests/conftest.py sets."""
from __future__ import annotations

import time

from torch import nn


class _Hang(nn.Module):
    """Passes its input through; once `after` training batches have gone by, sleeps `seconds`
    inside forward: a trial stuck in the middle of an epoch that never reports again."""

    def __init__(self, after: int, seconds: float) -> None:
        super().__init__()
        self.after, self.seconds, self.calls = after, seconds, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls > self.after:
                time.sleep(self.seconds)
        return x


def hanging_mlp(input_shape: tuple[int, ...], n_outputs: int, hidden_units: int = 8, hang_when: int = 8,
                after_batches: int = 3, seconds: float = 600.0) -> nn.Module:
    """An MLP that hangs (see `_Hang`) when `hidden_units == hang_when`, and trains normally otherwise."""
    width = int(input_shape[-1])
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(width, hidden_units), nn.ReLU(),
                               nn.Linear(hidden_units, n_outputs)]
    if hidden_units == hang_when:
        layers.insert(0, _Hang(after_batches, seconds))
    return nn.Sequential(*layers)


def reports_no_val_accuracy(config):
    """A user trainable whose reports lack the default metric `val_accuracy` (it says `acc`)."""
    from autolearn import report

    for step in range(3):
        report({"loss": config["x"] / (step + 1), "acc": 0.5})

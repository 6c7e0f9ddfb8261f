"""A training function autolearn did not write: it reads `config` and reports each step.

    python scripts/sweep.py examples/user_trainable.yaml
"""
from __future__ import annotations

import math

import autolearn


def train(config: dict) -> None:
    """A stand-in for any training code: a noisy 2-D bowl whose minimum is at (x, y) = (1, -2)."""
    for step in range(1, config["steps"] + 1):
        loss = (config["x"] - 1) ** 2 + (config["y"] + 2) ** 2 + math.exp(-step) * config["noise"]
        autolearn.report({"loss": loss, "step": step})

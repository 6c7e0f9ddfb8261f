#!/usr/bin/env python
"""Tune your own PyTorch model from Python: the same spec as YAML, with a callable for the model.

    python examples/custom_model.py            # 8 trials on digits, prints the best config
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autolearn


class ResidualMLP(nn.Module):
    """A model autolearn knows nothing about: its constructor arguments become tunable fields."""

    def __init__(self, n_features: int, n_outputs: int, width: int = 64, blocks: int = 2, dropout: float = 0.0):
        super().__init__()
        self.stem = nn.Linear(n_features, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU(), nn.Dropout(dropout))
            for _ in range(blocks))
        self.head = nn.Linear(width, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x.flatten(1))
        for block in self.blocks:
            h = h + block(h)
        return self.head(h)


def make_experiment(storage: str = "./runs", num_samples: int = 8, epochs: int = 8,
                    name: str = "custom-model-digits") -> autolearn.Experiment:
    return autolearn.Experiment(
        name=name,
        task={"dataset": {"name": "digits"}, "split": {"test": 0.2, "validation": 0.2}},
        model={"name": ResidualMLP, "width": 64, "blocks": 2},   # a class or function: fields are its kwargs
        train={"epochs": epochs, "optimizer": "adamw", "lr": 1e-3, "batch_size": 64},
        space={
            "lr": autolearn.FloatParam(1e-4, 3e-2, log=True),
            "width": autolearn.IntParam(16, 128, log=True),
            "blocks": autolearn.ChoiceParam((1, 2, 3)),
            "dropout": {"type": "float", "low": 0.0, "high": 0.3},   # dicts work as well
        },
        search={"strategy": "random", "num_samples": num_samples, "seed": 0},
        scheduler={"name": "asha", "grace_period": 2},
        storage=storage,
    )


if __name__ == "__main__":
    import time

    result = autolearn.run(make_experiment(name=f"custom-model-digits-{time.strftime('%Y%m%d-%H%M%S')}"))
    print("best config:", result.best_config)
    print(f"validation accuracy: {result.best_score:.4f}, test accuracy: {result.test_scores['test_accuracy']:.4f}")
    print("tensorboard --logdir", result.experiment_dir)

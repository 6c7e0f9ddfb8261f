"""Optimizers and learning-rate schedules, each a name → small factory.

`gd` is full-batch gradient descent: plain SGD whose batch is the whole training set (the trainable
reads `FULL_BATCH`). `momentum` and `nesterov` are SGD with the spec's `momentum`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import optim

from autolearn.training.schedules import WARMUP_SCHEDULES

Params = Iterable[torch.nn.Parameter]

OPTIMIZERS: dict[str, Callable[..., optim.Optimizer]] = {
    "gd": lambda p, lr, wd, m: optim.SGD(p, lr=lr, weight_decay=wd),
    "sgd": lambda p, lr, wd, m: optim.SGD(p, lr=lr, weight_decay=wd),
    "momentum": lambda p, lr, wd, m: optim.SGD(p, lr=lr, weight_decay=wd, momentum=m),
    "nesterov": lambda p, lr, wd, m: optim.SGD(p, lr=lr, weight_decay=wd, momentum=m or 0.9, nesterov=True),
    "adam": lambda p, lr, wd, m: optim.Adam(p, lr=lr, weight_decay=wd),
    "adamw": lambda p, lr, wd, m: optim.AdamW(p, lr=lr, weight_decay=wd),
    "rmsprop": lambda p, lr, wd, m: optim.RMSprop(p, lr=lr, weight_decay=wd, momentum=m),
}
FULL_BATCH = frozenset({"gd"})


def make_optimizer(name: str, params: Params, lr: float, weight_decay: float = 0.0,
                   momentum: float = 0.9) -> optim.Optimizer:
    return OPTIMIZERS[name](params, lr, weight_decay, momentum)


def _plateau(opt: optim.Optimizer, epochs: int, s: Any) -> Any:
    return optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=s.lr_gamma, patience=s.lr_patience)


SCHEDULES: dict[str, Callable[[optim.Optimizer, int, Any], Any]] = {
    "constant": lambda opt, epochs, s: optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0),
    "step": lambda opt, epochs, s: optim.lr_scheduler.StepLR(opt, step_size=s.lr_step_size, gamma=s.lr_gamma),
    "exponential": lambda opt, epochs, s: optim.lr_scheduler.ExponentialLR(opt, gamma=s.lr_gamma),
    "cosine": lambda opt, epochs, s: optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1), eta_min=s.lr_min),
    "plateau": _plateau,
    **WARMUP_SCHEDULES,
}
METRIC_DRIVEN = frozenset({"plateau"})  # stepped with the validation loss, not per epoch alone


def make_schedule(name: str, optimizer: optim.Optimizer, epochs: int, settings: Any) -> Any:
    """`settings` is anything with the lr_* fields of `TrainSpec` (the trial's merged settings)."""
    return SCHEDULES[name](optimizer, epochs, settings)


def step_schedule(name: str, schedule: Any, val_loss: float) -> None:
    if name in METRIC_DRIVEN:
        schedule.step(val_loss)
    else:
        schedule.step()

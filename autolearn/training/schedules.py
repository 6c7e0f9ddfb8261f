"""Learning-rate schedules with a warm-up: `warmup_cosine` and `one_cycle` (registered in `optim.SCHEDULES`).

Both are stepped once per epoch, like every schedule of the built-in loop, and both are torch
`lr_scheduler` objects, so a checkpoint keeps their position (`state_dict`) and the fused-trials
core can mirror them. Why warm up at all: in the first steps Adam's moment estimates and a fresh
network's gradients are at their least reliable, and a full-size step there can throw the weights
somewhere the rest of training never recovers from; a few epochs of rising rate avoid that.
"""
from __future__ import annotations

import math
from typing import Any

from torch import optim


def warmup_epochs(settings: Any, epochs: int) -> int:
    """Warm-up length in epochs: `lr_warmup_fraction` of the epochs when set, else `lr_warmup_epochs`,
    at most `epochs - 1` so that at least one epoch runs at the peak rate."""
    fraction = getattr(settings, "lr_warmup_fraction", None)
    wanted = round(fraction * epochs) if fraction is not None else int(getattr(settings, "lr_warmup_epochs", 1))
    return max(0, min(wanted, epochs - 1))


class WarmupCosine:
    """Factor of the base rate at epoch `e` (0-based): linear rise over `warmup` epochs to 1, then a
    cosine down to `floor`. A class, not a lambda, so the schedule pickles with its optimizer."""

    def __init__(self, epochs: int, warmup: int, floor: float) -> None:
        self.epochs, self.warmup, self.floor = max(epochs, 1), warmup, floor

    def __call__(self, epoch: int) -> float:
        if epoch < self.warmup:
            return (epoch + 1) / (self.warmup + 1)
        span = max(self.epochs - self.warmup, 1)  # like CosineAnnealingLR: the last epoch stays above the floor
        progress = min((epoch - self.warmup) / span, 1.0)
        return self.floor + (1.0 - self.floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine(opt: optim.Optimizer, epochs: int, s: Any) -> optim.lr_scheduler.LambdaLR:
    """Linear warm-up, then cosine annealing to `lr_min` (as `cosine` does, but after the warm-up)."""
    floor = min(s.lr_min / s.lr, 1.0) if s.lr > 0 else 0.0
    return optim.lr_scheduler.LambdaLR(opt, WarmupCosine(epochs, warmup_epochs(s, epochs), floor))


def one_cycle(opt: optim.Optimizer, epochs: int, s: Any) -> optim.lr_scheduler.OneCycleLR:
    """Smith's one-cycle policy (torch's OneCycleLR) over epochs: from lr/25 up to `lr` during the
    warm-up, then cosine down to lr/25e4. Momentum is left alone (`cycle_momentum=False`): plain
    `sgd` and `gd` have none, and one rule for every optimizer keeps the comparison fair."""
    epochs = max(epochs, 1)
    pct = (max(warmup_epochs(s, epochs), 1) + 1) / (epochs + 1)  # the peak at epoch index `warmup`
    # One step more than epochs: the loop steps after the last epoch too, and OneCycleLR refuses
    # a step past its total.
    return optim.lr_scheduler.OneCycleLR(opt, max_lr=s.lr, total_steps=epochs + 1, pct_start=pct,
                                         cycle_momentum=False)


WARMUP_SCHEDULES = {"warmup_cosine": warmup_cosine, "one_cycle": one_cycle}

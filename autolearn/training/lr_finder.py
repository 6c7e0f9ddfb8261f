"""The learning-rate range test (Smith, 2017): which rates make this model learn at all.

Train for a few hundred mini-batches while the rate rises exponentially from `min_lr` to `max_lr`,
record the (smoothed) loss, and stop once it blows up. The loss falls fastest somewhere in the
middle; that rate is the suggestion (rule: "steepest descent of the smoothed loss, before its
minimum"). `space.lr: {type: float, auto: true}` turns it into log-uniform bounds one decade either
side before the sweep starts. The model, optimizer and shuffling state the test changes are put
back in `finally`, so a range test never leaks into the training that follows it.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autolearn.config.space import AUTO_RANGE
from autolearn.errors import ConfigError
from autolearn.training.loop import Fitter

RULE = "steepest descent of the smoothed loss, before its minimum"
WINDOW_DECADES = 1 / 3  # the smoothing window of the suggestion: a third of a decade of rates
SPAN = 10.0  # the auto bounds: suggestion / SPAN .. suggestion * SPAN


@dataclass
class RangeTest:
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)     # smoothed: a centred mean over a third of a decade
    raw: list[float] = field(default_factory=list)
    stopped: str = "max_lr"                               # or "diverged"
    suggestion: float = math.nan
    rule: str = RULE

    def bounds(self, low: float = AUTO_RANGE[0], high: float = AUTO_RANGE[1]) -> tuple[float, float]:
        """Log-uniform search bounds around the suggestion, inside the tested range."""
        return max(self.suggestion / SPAN, low), min(self.suggestion * SPAN, high)


def save_state(fitter: Fitter) -> dict[str, Any]:
    return {"model": copy.deepcopy(fitter.model.state_dict()),
            "optimizer": copy.deepcopy(fitter.optimizer.state_dict()),
            "generator": fitter.generator.get_state(), "training": fitter.model.training}


def restore_state(fitter: Fitter, saved: dict[str, Any]) -> None:
    fitter.model.load_state_dict(saved["model"])
    fitter.optimizer.load_state_dict(saved["optimizer"])
    fitter.generator.set_state(saved["generator"])
    fitter.model.train(saved["training"])


def _batches(fitter: Fitter) -> Any:
    """Shuffled mini-batches of the training split, epoch after epoch, for as long as asked."""
    n = len(fitter.x_train)
    while True:
        order = torch.randperm(n, generator=fitter.generator).to(fitter.device)
        for start in range(0, n, fitter.batch_size):
            yield order[start:start + fitter.batch_size]


def _sweep(fitter: Fitter, min_lr: float, max_lr: float, steps: int, diverge: float, beta: float) -> RangeTest:
    out = RangeTest()
    ratio = (max_lr / min_lr) ** (1.0 / max(steps - 1, 1))
    average, best = 0.0, math.inf
    fitter.model.train()
    for i, idx in zip(range(steps), _batches(fitter)):
        lr = min_lr * ratio ** i
        for group in fitter.optimizer.param_groups:
            group["lr"] = lr
        fitter.optimizer.zero_grad(set_to_none=True)
        loss = fitter._loss(fitter.model(fitter.x_train[idx]), fitter.y_train[idx])
        value = float(loss.detach())
        if not math.isfinite(value):
            out.stopped = "diverged"
            break
        loss.backward()
        fitter.optimizer.step()
        average = beta * average + (1 - beta) * value
        smoothed = average / (1 - beta ** (i + 1))  # a running mean: it knows only the past, to stop on
        out.lrs.append(lr)
        out.raw.append(value)
        best = min(best, smoothed)
        if i > 10 and smoothed > diverge * best:
            out.stopped = "diverged"
            break
    window = max(3, round(WINDOW_DECADES * (steps - 1) / math.log10(max_lr / min_lr)))
    out.losses = centred_mean(out.raw, window)
    return out


def centred_mean(values: list[float], window: int) -> list[float]:
    """A moving mean centred on each point (edges repeated): smooth, and no lag, unlike a running mean."""
    if not values:
        return []
    pad = np.pad(np.asarray(values, dtype=float), (window // 2, window - 1 - window // 2), mode="edge")
    return list(np.convolve(pad, np.ones(window) / window, mode="valid"))


def suggest(lrs: list[float], losses: list[float], skip: int = 5) -> float:
    """The rate where the smoothed loss falls fastest per decade, within its falling part.

    The falling part ends where the loss first comes within 10% (of the total drop) of its
    minimum: the curve is noisy near the minimum, and a late dip just before the blow-up would
    otherwise win.
    """
    if len(losses) < skip + 3:
        raise ConfigError("space.lr.auto", f"the range test stopped after {len(losses)} steps, too few to "
                          "suggest a rate; lower space.lr.low (the start of the test) or raise the steps")
    curve = np.asarray(losses)
    drop = curve[0] - curve.min()
    last = int(np.argmax(curve <= curve.min() + 0.1 * drop))
    if drop <= 0 or last <= skip:  # the loss only rose: the whole range is too high
        raise ConfigError("space.lr.auto", f"the loss did not fall from the first rate tested ({lrs[0]:.3g}); "
                          "lower space.lr.low so the test starts where the model can learn")
    grad = np.gradient(curve, np.log10(lrs))  # central differences, also at the end of the falling part
    return float(lrs[skip + int(np.argmin(grad[skip:last]))])


def lr_range_test(fitter: Fitter, min_lr: float = AUTO_RANGE[0], max_lr: float = AUTO_RANGE[1],
                  steps: int = 200, diverge: float = 4.0, beta: float = 0.9) -> RangeTest:
    """Run the test on a built `Fitter` and put its model and optimizer back as they were."""
    if not 0 < min_lr < max_lr:
        raise ConfigError("space.lr", f"the range test needs 0 < low < high (low={min_lr}, high={max_lr})")
    saved = save_state(fitter)
    try:
        out = _sweep(fitter, min_lr, max_lr, steps, diverge, beta)
    finally:
        restore_state(fitter, saved)
    out.suggestion = suggest(out.lrs, out.losses)
    return out


def plot_range_test(test: RangeTest, path: str | Path) -> Path:
    """Loss against learning rate (log scale) with the suggestion marked; a PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(test.lrs, test.raw, color="0.8", linewidth=0.8, label="loss per batch")
    ax.plot(test.lrs, test.losses, color="C0", label="smoothed loss")
    ax.axvline(test.suggestion, color="C3", linestyle="--", label=f"suggestion {test.suggestion:.2g}")
    low, high = test.bounds()
    ax.axvspan(low, high, color="C2", alpha=0.1, label="auto bounds")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    top = min(max(test.losses), 3 * test.losses[0]) if test.losses else 1.0
    ax.set_ylim(top=top * 1.1)
    ax.set_title(f"LR range test ({test.rule})", fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

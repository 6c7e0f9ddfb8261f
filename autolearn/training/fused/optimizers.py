"""torch.optim's update rules, vectorised over a run of members in flat [m, P] buffers.

Each rule is the single-tensor (CPU default) implementation of `torch.optim.{SGD, Adam, AdamW,
RMSprop}` written once for many members: a hyperparameter that all members of the run share is
passed as a Python float (the very op torch.optim runs, so the update is bit-for-bit the solo one);
one that differs is an [m, 1] column (equal up to one rounding where torch fuses a multiply-add).
The hyperparameters are read from each member's own torch optimizer, so nothing is re-declared.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from .layers import NotFusable

Column = float | torch.Tensor


@dataclass(frozen=True)
class Hyper:
    """One member's optimizer settings (the lr is read again each epoch: schedules move it)."""

    kind: str  # a RULES key
    weight_decay: float
    momentum: float = 0.0
    nesterov: bool = False
    decoupled: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    alpha: float = 0.99


def _sgd(g: dict[str, Any]) -> Hyper:
    if g["dampening"] or g.get("maximize"):
        raise NotFusable("SGD with dampening or maximize")
    return Hyper("sgd", g["weight_decay"], g["momentum"], bool(g["nesterov"]))


def _adam(g: dict[str, Any]) -> Hyper:
    if g.get("amsgrad") or g.get("maximize") or g.get("capturable") or g.get("differentiable"):
        raise NotFusable("Adam with amsgrad, maximize, capturable or differentiable")
    b1, b2 = g["betas"]
    return Hyper("adam", g["weight_decay"], decoupled=bool(g.get("decoupled_weight_decay")),
                 beta1=float(b1), beta2=float(b2), eps=g["eps"])


def _rmsprop(g: dict[str, Any]) -> Hyper:
    if g.get("centered") or g.get("maximize") or g.get("capturable") or g.get("differentiable"):
        raise NotFusable("RMSprop with centered, maximize, capturable or differentiable")
    return Hyper("rmsprop", g["weight_decay"], g["momentum"], alpha=g["alpha"], eps=g["eps"])


READERS: dict[type, Callable[[dict[str, Any]], Hyper]] = {
    torch.optim.SGD: _sgd, torch.optim.Adam: _adam, torch.optim.AdamW: _adam, torch.optim.RMSprop: _rmsprop,
}
# The per-parameter state torch.optim keeps, by rule; 'step' is kept apart (one count per member).
STATE: dict[str, tuple[str, ...]] = {"sgd": ("momentum_buffer",), "adam": ("exp_avg", "exp_avg_sq"),
                                     "rmsprop": ("square_avg", "momentum_buffer")}
COUNTS_STEPS = frozenset({"adam", "rmsprop"})


def read_hyper(optimizer: torch.optim.Optimizer) -> Hyper:
    if type(optimizer) not in READERS:
        raise NotFusable(f"optimizer {type(optimizer).__name__} has no vectorised rule")
    if len(optimizer.param_groups) != 1:
        raise NotFusable("an optimizer with several parameter groups")
    return READERS[type(optimizer)](optimizer.param_groups[0])


def member_state_names(h: Hyper) -> tuple[str, ...]:
    """Which state tensors torch.optim keeps for this member once it has stepped."""
    if h.kind == "sgd":
        return ("momentum_buffer",) if h.momentum != 0 else ()
    if h.kind == "rmsprop":
        return ("square_avg", "momentum_buffer") if h.momentum > 0 else ("square_avg",)
    return STATE[h.kind]


class Run:
    """The members rows[a:b] of one rule, stepping now: their hyperparameters as columns."""

    def __init__(self, hypers: list[Hyper], lrs: list[float], steps: list[int], device: torch.device,
                 cache: dict[tuple[float, ...], torch.Tensor] | None = None) -> None:
        self.h, self.lrs, self.steps, self.device = hypers, lrs, steps, device
        self.cache = cache if cache is not None else {}  # the bucket's, for an epoch: no copy per tick

    def col(self, values: list[float]) -> Column:
        """A float when every member agrees (torch.optim's own op), else an [m, 1] column."""
        if all(v == values[0] for v in values):
            return float(values[0])
        key = tuple(values)
        if key not in self.cache:
            self.cache[key] = torch.tensor(values, dtype=torch.float32, device=self.device).view(-1, 1)
        return self.cache[key]

    def same(self, name: str) -> float:
        values = {getattr(h, name) for h in self.h}
        if len(values) != 1:
            raise NotFusable(f"members of one run differ in {name}")
        return float(values.pop())


def _axpy(y: torch.Tensor, x: torch.Tensor, a: Column) -> torch.Tensor:
    """y + a * x, torch.optim's `y.add(x, alpha=a)` when `a` is shared."""
    return y.add(x, alpha=a) if isinstance(a, float) else torch.addcmul(y, x, a)


def _axpy_(y: torch.Tensor, x: torch.Tensor, a: Column) -> None:
    if isinstance(a, float):
        y.add_(x, alpha=a)
    else:
        y.addcmul_(x, a)


def _coupled_decay(run: Run, p: torch.Tensor, g: torch.Tensor, decays: list[float]) -> torch.Tensor:
    wd = run.col(decays)
    return g if isinstance(wd, float) and wd == 0 else _axpy(g, p, wd)


def sgd_rule(run: Run, p: torch.Tensor, g: torch.Tensor, s: dict[str, torch.Tensor]) -> None:
    d = _coupled_decay(run, p, g, [h.weight_decay for h in run.h])
    momenta = [h.momentum for h in run.h]
    if any(momenta):
        m = run.col(momenta)
        buf = s["momentum_buffer"]
        buf.mul_(m).add_(d)  # zero buffer at the first step: m*0 + d == torch's clone of d
        nesterov = [h.nesterov for h in run.h]
        if all(nesterov):
            d = _axpy(d, buf, m)
        elif any(nesterov):
            mask = run.col([1.0 if n else 0.0 for n in nesterov])
            d = torch.where(torch.as_tensor(mask) != 0, _axpy(d, buf, m), buf)
        else:
            d = buf
    _axpy_(p, d, run.col([-lr for lr in run.lrs]))


def adam_step_columns(run: Run) -> list[list[float]]:
    """Adam's per-step scalars, as torch.optim computes them in double: lr / (1 - beta1^t), sqrt(1 - beta2^t)."""
    beta1, beta2 = run.same("beta1"), run.same("beta2")
    return [[lr / (1 - beta1 ** n) for lr, n in zip(run.lrs, run.steps)],
            [(1 - beta2 ** n) ** 0.5 for n in run.steps]]


# The columns that change every step, by rule: the bucket uploads an epoch's worth at once, since a
# small host-to-device copy per step would wait for the GPU each time.
STEP_COLUMNS: dict[str, Callable[[Run], list[list[float]]]] = {"adam": adam_step_columns}


def adam_rule(run: Run, p: torch.Tensor, g: torch.Tensor, s: dict[str, torch.Tensor]) -> None:
    beta1, beta2, eps = run.same("beta1"), run.same("beta2"), run.same("eps")
    decoupled = [1 - lr * h.weight_decay if h.decoupled else 1.0 for h, lr in zip(run.h, run.lrs)]
    decay = run.col(decoupled)
    if not (isinstance(decay, float) and decay == 1.0):
        p.mul_(decay)
    d = _coupled_decay(run, p, g, [0.0 if h.decoupled else h.weight_decay for h in run.h])
    exp_avg, exp_avg_sq = s["exp_avg"], s["exp_avg_sq"]
    exp_avg.lerp_(d, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(d, d, value=1 - beta2)
    step_sizes, bc2_sqrts = adam_step_columns(run)
    step_size, bc2_sqrt = run.col(step_sizes), run.col(bc2_sqrts)
    denom = (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
    if isinstance(step_size, float):
        p.addcdiv_(exp_avg, denom, value=-step_size)
    else:
        p.addcdiv_(exp_avg * -step_size, denom)  # torch computes (value * exp_avg) / denom


def rmsprop_rule(run: Run, p: torch.Tensor, g: torch.Tensor, s: dict[str, torch.Tensor]) -> None:
    alpha, eps = run.same("alpha"), run.same("eps")
    d = _coupled_decay(run, p, g, [h.weight_decay for h in run.h])
    square_avg = s["square_avg"]
    square_avg.mul_(alpha).addcmul_(d, d, value=1 - alpha)
    avg = square_avg.sqrt().add_(eps)
    momenta = [h.momentum for h in run.h]
    neg_lr = run.col([-lr for lr in run.lrs])
    if any(m > 0 for m in momenta):
        buf = s["momentum_buffer"]
        buf.mul_(run.col(momenta)).addcdiv_(d, avg)
        _axpy_(p, buf, neg_lr)
    elif isinstance(neg_lr, float):
        p.addcdiv_(d, avg, value=neg_lr)
    else:
        p.addcdiv_(d * neg_lr, avg)


RULES: dict[str, Callable[[Run, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]], None]] = {
    "sgd": sgd_rule, "adam": adam_rule, "rmsprop": rmsprop_rule,
}


def needed_state(hypers: list[Hyper]) -> set[str]:
    """The flat state buffers a bucket of these members needs."""
    return {name for h in hypers for name in member_state_names(h)}

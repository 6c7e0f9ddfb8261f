"""A member group: several configs of the built-in loop trained in one process, each exactly as alone.

`MemberGroup` is the contract between the fused core (`training/fused/`: one batched model) and the
execution layer (`execution/fusion/`: each member stays its own Ray Tune trial). `SoloGroup` is the
reference implementation: a dict of `Fitter`s trained one after another. It gives bit-identical
results to `train_trial` and is the fallback for configs the fused core cannot batch.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

import torch

from autolearn.training.loop import Fitter, TrainJob
from autolearn.training.optim import step_schedule


class MemberGroup(Protocol):
    def add(self, key: str, config: Mapping[str, Any], state: Mapping[str, Any] | None = None) -> None:
        """Add a member (a trial id as key). `state` is a solo-format checkpoint state (what
        Fitter.state(epoch) returns) to resume from; the member's next epoch is state['epoch']+1."""

    def train_epoch(self) -> dict[str, dict[str, Any]]:
        """Advance every active member by one epoch; key -> the metrics dict train_trial reports
        (epoch, train_loss, val_loss, val_accuracy, lr, diverged), schedule already stepped.
        A member that diverged or reached its epochs is dropped after this call reports it."""

    def member_state(self, key: str) -> dict[str, Any]:
        """The member's solo-format state now: {'epoch', 'model', 'optimizer', 'schedule', 'generator'}.
        Also for a member the last `train_epoch` reported finished (its final checkpoint), until the next."""

    def drop(self, key: str) -> None:
        """Stop training a member (stopped early by the scheduler): it costs no compute from now on."""

    def active(self) -> list[str]: ...


class _Member:
    """A `Fitter` with its epoch count and its own stream of the global RNG (dropout draws)."""

    def __init__(self, fitter: Fitter, epoch: int) -> None:
        self.fitter = fitter
        self.epoch = epoch
        self.rng = torch.get_rng_state()  # what a solo trial's dropout would draw from next


class SoloGroup:
    """Members trained one after another, each with its own `Fitter`: the reference for `FusedGroup`.

    Each member keeps its own copy of torch's global RNG state (dropout draws from it), so
    interleaving members changes nothing: a member's results are the ones `train_trial` gives alone.
    """

    def __init__(self, job: TrainJob, device: torch.device) -> None:
        self.job = job
        self.device = device
        self._members: dict[str, _Member] = {}
        self._finished: dict[str, _Member] = {}  # reported done by the last train_epoch: final checkpoints
        self.failed: dict[str, BaseException] = {}  # members whose last epoch raised

    def add(self, key: str, config: Mapping[str, Any], state: Mapping[str, Any] | None = None) -> None:
        outer = torch.get_rng_state()
        try:
            fitter = Fitter(self.job, config, self.device)  # seeds the global RNG, as train_trial does
            epoch = fitter.load_state(state) if state is not None else 0
            self._members[key] = _Member(fitter, epoch)
        finally:
            torch.set_rng_state(outer)

    def train_epoch(self) -> dict[str, dict[str, Any]]:
        """As the protocol says; a member whose epoch raises leaves the group and its error is kept
        in `failed` (until the next call): one config's fault costs the others nothing."""
        out: dict[str, dict[str, Any]] = {}
        self._finished = {}
        self.failed = {}
        for key, member in list(self._members.items()):
            try:
                out[key] = self._advance(member)
            except Exception as err:  # this member's own fault (its model, its config)
                self.failed[key] = err
                self._members.pop(key)
                continue
            if out[key]["diverged"] or member.epoch >= member.fitter.settings.epochs:
                self._finished[key] = self._members.pop(key)
        return out

    def _advance(self, member: _Member) -> dict[str, Any]:
        """One epoch of one member: the body of `train_trial`'s loop, on the member's own RNG."""
        fitter = member.fitter
        outer = torch.get_rng_state()
        torch.set_rng_state(member.rng)
        try:
            member.epoch += 1
            lr = fitter.lr
            train_loss = fitter.train_epoch()
            val_loss, val_accuracy = fitter.validate() if math.isfinite(train_loss) else (math.nan, math.nan)
            diverged = not (math.isfinite(train_loss) and math.isfinite(val_loss))
            if not diverged:
                step_schedule(fitter.settings.lr_schedule, fitter.schedule, val_loss)
            member.rng = torch.get_rng_state()
        finally:
            torch.set_rng_state(outer)
        return {"epoch": member.epoch, "train_loss": train_loss, "val_loss": val_loss,
                "val_accuracy": val_accuracy, "lr": lr, "diverged": diverged}

    def member_state(self, key: str) -> dict[str, Any]:
        member = self._members.get(key) or self._finished[key]
        return member.fitter.state(member.epoch)

    def drop(self, key: str) -> None:
        self._members.pop(key, None)

    def active(self) -> list[str]:
        return list(self._members)


def make_group(job: TrainJob, device: torch.device) -> MemberGroup:
    """The group a fused worker trains: the fused core (`training/fused/`) on `device`.

    Bucketing follows the measurements in docs/BENCHMARKS.md: on a GPU kernel launches, not FLOPs,
    set the pace, so every member is padded into one bucket; on a CPU wide members are compute-bound,
    so only widths within 2x of each other share a bucket. Configs the core cannot fuse
    (`fuse_blocker`) are trained by a `SoloGroup` beside it.
    """
    from autolearn.training.fused import FusedGroup

    max_pad = math.inf if device.type == "cuda" else 2.0
    return FusedGroup(job, device, max_pad=max_pad)


def fuse_blocker(job: TrainJob, config: Mapping[str, Any]) -> str | None:
    """Why this config cannot be trained in a fused group (one line), or None when it can."""
    from autolearn.training.fused import fuse_blocker as core_blocker

    return core_blocker(job, config)

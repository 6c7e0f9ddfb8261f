"""Fused trials: K configs trained together by one worker, each still its own Ray Tune trial.

Ray Tune runs every config as a *member* trial (`member.py`), so searchers, schedulers, results,
TensorBoard, checkpoints, retries, `--resume` and live progress all see one trial per config, on
Ray's own machinery. The members' epochs are trained by shared *fused workers* (`worker.py`), K
members each, seated by the sweep's *hub* (`hub.py`). `plan.py` decides whether a sweep fuses and K.

The runner calls `fused_trainable` (None: train as usual), `callbacks` and `close`.
"""
from __future__ import annotations

import logging
from typing import Any

from autolearn.execution.fusion.hub import HubSettings, close_hub, hub_name, open_hub
from autolearn.execution.fusion.plan import fuse_factor, why_not

log = logging.getLogger(__name__)

__all__ = ["callbacks", "close", "fused_trainable"]


def fused_trainable(exp: Any, job: Any) -> Any | None:
    """The member trainable with its resources (and the sweep's hub, started), or None when the sweep
    does not fuse: `fuse: 1`, or it cannot (logged once, and the sweep runs as usual)."""
    if exp.search.fuse == 1:
        return None
    reason = why_not(exp)
    if reason is not None:
        log.warning("search.fuse: %s; the trials run one by one as usual", reason)
        return None
    import ray
    from ray import tune

    from autolearn.execution.fusion.member import train_trial
    from autolearn.execution.runner import experiment_dir, search_plan

    resources = ray.cluster_resources()
    expected = search_plan(exp).expected_trials
    k = fuse_factor(exp, job, expected, float(resources.get("CPU", 1.0)), float(resources.get("memory", 2**31)))
    if k == 1:
        return None
    cpus, gpus = exp.resources.cpus_per_trial, exp.resources.gpus_per_trial
    # Without a scheduler that stops trials early, nothing trained ahead is ever wasted.
    ahead = exp.train.epochs if exp.scheduler.name == "fifo" else 1
    settings = HubSettings(capacity=k, threads=max(1, int(cpus)), checkpoint_every=exp.train.checkpoint_every,
                           ahead=ahead)
    directory = experiment_dir(exp)
    open_hub(directory, job, settings, _prestart(exp, k, expected, float(resources.get("CPU", 1.0))))
    member = tune.with_parameters(train_trial, hub=hub_name(directory))
    return tune.with_resources(member, {"cpu": _share(cpus, k), "gpu": _share(gpus, k)})


def _prestart(exp: Any, k: int, expected: int | None, cpus: float) -> int:
    """Workers to start before any member arrives: on one CPU-only machine, as many as will be busy."""
    import math

    import ray

    if exp.resources.gpus_per_trial or len([n for n in ray.nodes() if n.get("Alive")]) != 1:
        return 0  # members' GPUs and nodes are known only when they arrive
    slots = max(1, math.floor(cpus / exp.resources.cpus_per_trial))
    return min(slots, math.ceil((expected or exp.search.num_samples or 1) / k))


def _share(amount: float, k: int) -> float:
    """A member's 1/K of the group's resources, rounded down to Ray's resolution (1e-4)."""
    return int(amount / k * 10_000) / 10_000


def callbacks(exp: Any) -> list[Any]:
    """The Tune callbacks a fused sweep needs (`ended.py`: the hub hears at once that a member ended)."""
    if exp.search.fuse == 1:
        return []
    from autolearn.execution.fusion.ended import MemberEnded
    from autolearn.execution.runner import experiment_dir

    return [MemberEnded(experiment_dir(exp))]


def close(exp: Any) -> None:
    """End the sweep's hub and fused workers (a no-op for a sweep that did not fuse)."""
    if exp.search.fuse == 1:
        return
    from autolearn.execution.runner import experiment_dir

    close_hub(experiment_dir(exp))

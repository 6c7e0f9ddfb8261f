"""Whether and how a sweep fuses: `search.fuse` (K, or `auto`).

`fuse: 1` (the default) changes nothing. A user trainable cannot fuse, nor a sweep under a
scheduler that pauses and resumes trials (`hyperband`): it runs as usual, with one log line
saying why. `auto` picks K so that the configs fill the worker slots in about one round, capped by
the model's size (memory) and by `MAX_AUTO`; it logs what it chose. Members cost no process of
their own (`driver.py`), so on a CPU too every K >= 2 trains faster than one config at a time.
"""
from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)

MAX_AUTO = 32             # beyond this a fused step's width stops paying (HFTA's curves flatten)
MEMORY_SHARE = 0.25       # of the free memory one group's members may take, for `auto`
BYTES_PER_PARAMETER = 16  # weights, gradients and two optimizer moments, float32
PAUSING_SCHEDULERS = {"hyperband": "scheduler hyperband pauses and resumes trials in rounds"}


def fuse_factor(exp: Any, job: Any, expected_trials: int | None, cpus: float, free_memory: float) -> int:
    """K for this sweep: the spec's number, or `auto`'s choice (logged)."""
    fuse = exp.search.fuse
    if fuse != "auto":
        return int(fuse)
    slots = max(1, math.floor(cpus / exp.resources.cpus_per_trial))
    configs = expected_trials or exp.search.num_samples or 1
    by_configs = max(1, math.ceil(configs / slots))
    by_memory = max(1, int(free_memory * MEMORY_SHARE / max(1, _parameters(job) * BYTES_PER_PARAMETER)))
    k = min(MAX_AUTO, by_configs, by_memory)
    log.warning("search.fuse: auto chose K=%d (%d configs over %d worker slot(s) of %g CPU; %d members fit "
                "in memory)", k, configs, slots, exp.resources.cpus_per_trial, by_memory)
    return k


def _parameters(job: Any) -> int:
    """Parameters of the base model: `auto`'s yardstick for a member's memory."""
    import torch

    from autolearn.training.loop import Evaluator

    model = Evaluator(job, {}, torch.device("cpu")).model
    return sum(p.numel() for p in model.parameters())


def why_not(exp: Any) -> str | None:
    """Why this sweep cannot fuse at all, or None."""
    if not exp.uses_builtin_trainable:
        return "task.trainable is a user trainable (only the built-in loop can fuse)"
    if exp.resources.distributed:
        return "resources.workers_per_trial: a distributed trial is its own Ray Train group"
    name = exp.scheduler.name if isinstance(exp.scheduler.name, str) else ""
    if name in PAUSING_SCHEDULERS:
        return PAUSING_SCHEDULERS[name]
    return None

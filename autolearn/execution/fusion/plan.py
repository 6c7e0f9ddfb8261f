"""Whether and how a sweep fuses: `search.fuse` (K, or `auto`) turned into a member trainable.

`fuse: 1` (the default) changes nothing. A user trainable cannot fuse: it runs as usual, with one
log line saying why. `auto` picks K so that the configs fill the worker slots the cluster has in
about one round, capped by the model's size and by the member processes the CPUs can carry
(every running member is a Ray Tune trial: an actor process), and logs what it chose.
"""
from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)

MAX_AUTO = 32             # beyond this a fused step's width stops paying (HFTA's curves flatten)
MEMBERS_PER_CPU = 8       # each running member is a Ray actor process (~1-2 s to start, ~100 MB):
#                           measured on 2 cores, 100 trials: K=8 (16 members) 89 s, K=32 (64) 238 s
MEMORY_SHARE = 0.25       # of the free memory one worker's members may take, for `auto`
BYTES_PER_PARAMETER = 16  # weights, gradients and two optimizer moments, float32


def fuse_factor(exp: Any, job: Any, expected_trials: int | None, cpus: float, free_memory: float) -> int:
    """K for this sweep: the spec's number, or `auto`'s choice (logged)."""
    fuse = exp.search.fuse
    if fuse != "auto":
        return int(fuse)
    slots = max(1, math.floor(cpus / exp.resources.cpus_per_trial))
    configs = expected_trials or exp.search.num_samples or 1
    by_configs = max(1, math.ceil(configs / slots))
    by_memory = max(1, int(free_memory * MEMORY_SHARE / max(1, _parameters(job) * BYTES_PER_PARAMETER)))
    by_processes = max(1, int(MEMBERS_PER_CPU * exp.resources.cpus_per_trial))
    k = min(MAX_AUTO, by_configs, by_memory, by_processes)
    log.warning("search.fuse: auto chose K=%d (%d configs over %d worker slot(s) of %g CPU; at most %d "
                "member processes per worker's CPUs, %d members by memory)", k, configs, slots,
                exp.resources.cpus_per_trial, by_processes, by_memory)
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
    return None

"""Whether and how a sweep fuses: `search.fuse` (K, or `auto`) turned into a member trainable.

`fuse: 1` (the default) changes nothing. A user trainable cannot fuse: it runs as usual, with one
log line saying why. `auto` picks K so that the configs fill the worker slots the cluster has in
about one round, capped by the model's size and by the member processes the CPUs can carry
(every running member is a Ray Tune trial: an actor process), and, on a CPU, only where the
training fusion saves (measured: one epoch of the spec's config) outweighs the extra member
processes; it logs what it chose.
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
# On a CPU, `auto` fuses only where it pays (docs/BENCHMARKS.md, "where a fused run's time goes"):
MEMBER_START_S = 1.5      # CPU seconds of each extra member process (Ray worker + `import ray.tune`)
CPU_FUSED_GAIN = 1.8      # fused vs one-by-one training speed of random seed-space configs on a CPU
MIN_CPU_K = 4             # narrower groups barely batch on a CPU: not worth their member processes


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
    if not exp.resources.gpus_per_trial:
        k = _worth_it_on_cpu(k, slots, configs, exp.train.epochs * _epoch_seconds(job))
    log.warning("search.fuse: auto chose K=%d (%d configs over %d worker slot(s) of %g CPU; at most %d "
                "member processes per worker's CPUs, %d members by memory)", k, configs, slots,
                exp.resources.cpus_per_trial, by_processes, by_memory)
    return k


def _worth_it_on_cpu(k: int, slots: int, configs: int, train_s: float) -> int:
    """The largest K <= `k` whose extra member processes cost less CPU time than fusion saves, or 1.

    Every running member is a Ray Tune trial, so fusing K per worker slot starts `slots * (K-1)`
    more actor processes than training one by one; fusion saves `1 - 1/CPU_FUSED_GAIN` of each
    config's training. The seed task (0.1 s per config) saves 4.5 s at 100 configs, less than
    the 21 s of 14 extra members: there `auto` trains one by one; at 1000 configs it fuses."""
    saving = configs * train_s * (1 - 1 / CPU_FUSED_GAIN)
    affordable = 1 + int(saving / (MEMBER_START_S * slots))
    best = min(k, affordable)
    if best < MIN_CPU_K:
        log.warning("search.fuse: auto trains one by one: %d configs of ~%.2f s each would save %.1f s fused "
                    "on a CPU, less than their member trials' extra processes cost", configs, train_s, saving)
        return 1
    return best


def _epoch_seconds(job: Any) -> float:
    """CPU seconds of one training epoch of the spec's own config, on one thread (the second
    epoch: the first one's optimizer step imports `torch._dynamo`). CPU time, not wall time, so a
    machine busy with other work does not make training look longer than a member's start-up
    (`MEMBER_START_S` is CPU time too)."""
    import time

    import torch

    from autolearn.training.loop import Fitter

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fitter = Fitter(job, {}, torch.device("cpu"))
        fitter.train_epoch()
        start = time.process_time()
        fitter.train_epoch()
        fitter.validate()
        return time.process_time() - start
    finally:
        torch.set_num_threads(threads)


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

"""Spec checks for distributed trials (`resources.workers_per_trial` > 1), registered by this package.

A distributed trial runs the built-in loop as N data-parallel workers (`ddp_trainable.py`). Parts
of a spec that cannot run that way are refused at load time, each naming the field, instead of
silently training one process or N unsynchronised copies.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from autolearn.errors import ConfigError

if TYPE_CHECKING:
    from autolearn.config.spec import Experiment


def check_distributed(exp: Experiment) -> None:
    """Refuse what a distributed trial cannot honour: fused trials, a user's trainable, cv/repeats."""
    workers = exp.resources.workers_per_trial
    if workers <= 1:
        return
    if exp.search.fuse != 1:
        raise ConfigError("search.fuse", f"cannot fuse trials that are each {workers} workers "
                          f"(resources.workers_per_trial={workers}); use fuse: 1 or workers_per_trial: 1")
    if not exp.uses_builtin_trainable:
        raise ConfigError("resources.workers_per_trial", "distributes the built-in training loop only; a "
                          "task.trainable runs as one process (use Ray Train inside it yourself)")
    if exp.task.cv is not None or exp.task.repeats != 1:
        field = "task.cv" if exp.task.cv is not None else "task.repeats"
        raise ConfigError(field, f"cannot be combined with resources.workers_per_trial={workers}; "
                          "distributed trials train one split once")

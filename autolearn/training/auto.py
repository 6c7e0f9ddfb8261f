"""Resolve a spec's `auto` values before the sweep starts: `train.batch_size: auto`, `space.lr.auto`
(and `resources.gpus_per_trial: auto`, measured by `training/profile.py`).

Runs on the driver, once, on the spec's base config (the model the spec names with its base
settings): the batch-size finder first (the rate depends on the batch), then the LR range test at
that batch. When the optimizer is searched, the range test runs once per optimizer and the bounds
cover all of them (SGD and Adam want rates two decades apart). The result is an ordinary
`Experiment` with numbers in place of `auto`, plus what was found, for summary.json.
"""
from __future__ import annotations

import logging
import math
from typing import Any

import torch

from autolearn.config.sections import TrainSpec
from autolearn.config.space import ChoiceParam, FloatParam
from autolearn.config.spec import Experiment
from autolearn.errors import ConfigError

log = logging.getLogger(__name__)
SCALING = {"none": lambda r: 1.0, "linear": lambda r: r, "sqrt": math.sqrt}


def needs_resolution(exp: Experiment) -> bool:
    if not exp.uses_builtin_trainable:
        return False
    lr = exp.space.get("lr")
    return exp.builtin_sections()[2].batch_size == "auto" or bool(getattr(lr, "auto", False))


def finder_device(exp: Experiment) -> torch.device:
    """Where the trials will train: a GPU when they get one and this machine has one, else the CPU."""
    wants_gpu = exp.resources.gpus > 0 and exp.builtin_sections()[2].device != "cpu"
    return torch.device("cuda", 0) if wants_gpu and torch.cuda.is_available() else torch.device("cpu")


def load_job(exp: Experiment, train: TrainSpec) -> Any:
    from autolearn.training.data import load_dataset
    from autolearn.training.loop import TrainJob

    dataset, model, _ = exp.builtin_sections()
    split = exp.task.split
    data = load_dataset(dataset.name, dict(dataset.params), split.test, split.validation, split.random_state)
    if not hasattr(data, "x_train"):  # a torch_data.TorchData: the finders step over arrays in memory
        raise ConfigError("task.dataset", "batch_size: auto, space.lr auto and lr-find work on (X, y) array "
                          "data sets; this builder returns torch Datasets: give the numbers")
    return TrainJob(data=data, model=model, train=train)


def resolve_batch_size(exp: Experiment, job: Any, device: torch.device) -> tuple[Experiment, dict[str, Any]]:
    """Replace `batch_size: auto` by the finder's batch, and scale the rate(s) if `lr_scaling` says so."""
    from dataclasses import replace

    from autolearn.training.batch_size import find_batch_size
    from autolearn.training.loop import Fitter

    base = exp.builtin_sections()[2]
    found = find_batch_size(Fitter(job, {"batch_size": 1}, device), base.batch_memory_mb)
    factor = SCALING[base.lr_scaling](found.batch_size / base.lr_base_batch)
    # The finder's own settings are spent: the resolved spec is a plain one (summary.json keeps them).
    train = replace(base, batch_size=found.batch_size, lr=base.lr * factor, batch_memory_mb=None,
                    lr_scaling="none")
    space = dict(exp.space)
    lr = space.get("lr")
    if factor != 1.0 and isinstance(lr, FloatParam) and not lr.auto:
        space["lr"] = FloatParam(lr.low * factor, lr.high * factor, lr.log, None)
    elif factor != 1.0 and isinstance(lr, ChoiceParam):
        space["lr"] = type(lr)(tuple(v * factor for v in lr.values))
    notes = {"batch_size": found.batch_size, "rule": found.rule, "device": str(device), "tried": found.tried,
             **({"memory": found.memory} if found.memory else {}),
             "lr_scaling": base.lr_scaling, "lr_factor": factor}
    log.info("batch_size: auto -> %d (%s)", found.batch_size, found.rule)
    return exp.with_overrides(train=train, space=exp.space.with_params(space)), notes


def resolve_lr(exp: Experiment, job: Any, device: torch.device) -> tuple[Experiment, dict[str, Any]]:
    """Replace `space.lr: {auto: true}` by log-uniform bounds around the range test's suggestion."""
    from autolearn.training.loop import Fitter
    from autolearn.training.lr_finder import RULE, lr_range_test

    param = exp.space["lr"]
    if not isinstance(param, FloatParam):  # checked at load time; this only narrows the type
        raise TypeError(f"space.lr is {param!r}, not an auto float")
    optimizers = exp.space.get("optimizer")
    names = list(optimizers.values) if isinstance(optimizers, ChoiceParam) else [exp.builtin_sections()[2].optimizer]
    per_optimizer: dict[str, dict[str, float]] = {}
    for name in names:
        test = lr_range_test(Fitter(job, {"optimizer": name}, device), param.low, param.high)
        low, high = test.bounds(param.low, param.high)
        per_optimizer[name] = {"suggestion": test.suggestion, "low": low, "high": high}
    low = min(v["low"] for v in per_optimizer.values())
    high = max(v["high"] for v in per_optimizer.values())
    space = {**dict(exp.space), "lr": FloatParam(low, high, log=True)}
    log.info("space.lr: auto -> log-uniform [%.3g, %.3g] (%s)", low, high, RULE)
    notes = {"low": low, "high": high, "rule": RULE, "tested": [param.low, param.high], "optimizers": per_optimizer}
    return exp.with_overrides(space=exp.space.with_params(space)), notes


def resolve_auto(exp: Experiment) -> tuple[Experiment, dict[str, Any]]:
    """The spec with every `auto` resolved, and `{"auto": {...}}` saying to what (empty if none)."""
    notes: dict[str, Any] = {}
    if exp.resources.gpus_per_trial == "auto":  # first: the finders run where the trials will
        from autolearn.training.profile import resolve_gpus

        exp, notes["gpus_per_trial"] = resolve_gpus(exp)
    if not needs_resolution(exp):
        return exp, ({"auto": notes} if notes else {})
    from dataclasses import replace

    device = finder_device(exp)
    job = load_job(exp, exp.builtin_sections()[2])
    if exp.builtin_sections()[2].batch_size == "auto":
        exp, notes["batch_size"] = resolve_batch_size(exp, job, device)
    if getattr(exp.space.get("lr"), "auto", False):
        exp, notes["lr"] = resolve_lr(exp, replace(job, train=exp.builtin_sections()[2]), device)
    return exp, {"auto": notes}


def range_test_for(exp: Experiment, steps: int = 200, low: float | None = None, high: float | None = None,
                   optimizer: str | None = None) -> Any:
    """`autolearn lr-find`: the range test on the spec's model at its base settings (a `RangeTest`).

    The range defaults to `space.lr`'s when it is auto, else to `AUTO_RANGE`; a `batch_size: auto`
    is resolved first, as a sweep would.
    """
    from autolearn.config.space import AUTO_RANGE
    from autolearn.training.loop import Fitter
    from autolearn.training.lr_finder import lr_range_test

    if not exp.uses_builtin_trainable:
        raise ConfigError("task.trainable", "lr-find trains the built-in loop's model; a user trainable has none")
    param = exp.space.get("lr")
    default = (param.low, param.high) if isinstance(param, FloatParam) and param.auto else AUTO_RANGE
    low, high = low or default[0], high or default[1]
    device = finder_device(exp)
    job = load_job(exp, exp.builtin_sections()[2])
    if exp.builtin_sections()[2].batch_size == "auto":
        from dataclasses import replace

        exp, _ = resolve_batch_size(exp, job, device)
        job = replace(job, train=exp.builtin_sections()[2])
    config = {"optimizer": optimizer} if optimizer else {}
    return lr_range_test(Fitter(job, config, device), low, high, steps)

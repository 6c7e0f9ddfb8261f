"""The Ray Tune function trainable of the built-in loop: train, validate, report, checkpoint.

The dataset arrives through `tune.with_parameters` (the object store, once per sweep). Each
epoch reports `epoch`, `train_loss`, `val_loss`, `val_accuracy`, `lr`, what the model costs
(`n_params`, `latency_ms`, `epoch_time_s`: `costs.py`) and where the trial runs (`node`,
`gpu_ids`), with a checkpoint the trial resumes from after a failure. A loss that turns nan/inf
ends the trial at once, reported with `diverged: True`, and the sweep goes on; so does a trial
that runs out of GPU memory (`oom: True`, status `oom`). A torch-Dataset data set arrives as a
description only and is built in the trial (`torch_data.py`).
"""
from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from autolearn.errors import ResourceError
from autolearn.training.cadence import Cadence
from autolearn.training.cv import CrossValidatedFitter, make_fitter
from autolearn.training.loop import TrainJob

CHECKPOINT_FILE = "checkpoint.pt"


def trial_device(requested: str) -> torch.device:
    """CUDA when Ray gave this trial a GPU (it sets CUDA_VISIBLE_DEVICES), otherwise the CPU."""
    import ray

    has_gpu = bool(ray.get_gpu_ids()) and torch.cuda.is_available()
    if requested == "cuda" and not has_gpu:
        raise ResourceError("train.device is 'cuda' but this trial was given no GPU; "
                            "set resources.gpus_per_trial > 0 or device: auto")
    if requested == "cpu" or not has_gpu:
        return torch.device("cpu")
    return torch.device("cuda", 0)  # the first of the GPUs Ray made visible


def placement() -> dict[str, Any]:
    """Which node and GPUs this trial has, for the results table."""
    import ray

    ctx = ray.get_runtime_context()
    return {"node": ctx.get_node_id(), "gpu_ids": ",".join(str(g) for g in ray.get_gpu_ids())}


def _quiet() -> None:
    """Ray Train logs every checkpoint at INFO in the worker; one line per epoch per trial is noise."""
    logging.getLogger("ray.train").setLevel(logging.WARNING)


def _threads() -> None:
    """One torch thread per CPU Ray gave the trial: more threads only fight over small models."""
    import ray

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
    torch.set_num_threads(max(1, int(cpus)))


def load_checkpoint_state(directory: str | os.PathLike[str]) -> dict[str, Any]:
    return torch.load(Path(directory) / CHECKPOINT_FILE, map_location="cpu", weights_only=True)


def run_epoch(fitter: Any, epoch: int) -> dict[str, Any]:
    """Train one epoch and validate: what every trial reports (also a distributed one's ranks).

    `diverged` when a loss is not finite; a training loss that is skips the validation. `oom` when
    the epoch ran out of GPU memory (the trial then ends; the sweep goes on)."""
    lr = fitter.lr
    began = time.perf_counter()
    try:
        train_loss = fitter.train_epoch()
        epoch_time = time.perf_counter() - began
        val_loss, val_accuracy = fitter.validate() if math.isfinite(train_loss) else (math.nan, math.nan)
    except torch.cuda.OutOfMemoryError as err:  # status `oom`: the sweep goes on (a smaller share won't fit)
        logging.getLogger(__name__).warning("trial ran out of GPU memory at epoch %d: %s", epoch,
                                            str(err).splitlines()[0] if str(err) else "")
        return {"epoch": epoch, "train_loss": math.nan, "val_loss": math.nan, "val_accuracy": math.nan,
                "lr": lr, "diverged": False, "oom": True}
    diverged = not (math.isfinite(train_loss) and math.isfinite(val_loss))
    return {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "val_accuracy": val_accuracy,
            "lr": lr, "diverged": diverged, "epoch_time_s": epoch_time}


def train_trial(config: Mapping[str, Any], job: TrainJob, timeout: float | None = None) -> None:
    """Ray Tune function trainable: one config of the built-in training loop.

    `timeout` is `run.trial_timeout`: a `Watchdog` ends the trial if an epoch hangs past it.
    """
    from ray import tune

    from autolearn.training.watchdog import Watchdog

    with Watchdog(timeout, tune.report) as watchdog:
        _train(config, job, watchdog.report)


def _costs(fitter: Any) -> dict[str, float]:
    """`n_params` and `latency_ms` of the trial's model (the first fold's under cross-validation)."""
    from autolearn.training.costs import model_costs

    first = getattr(fitter, "fitters", [fitter])[0]
    return model_costs(first.model, first.x_val)


def _train(config: Mapping[str, Any], job: TrainJob, report: Callable[..., None]) -> None:
    """The loop itself; every report goes through `report` (the watchdog's, so a late one is dropped)."""
    from ray import tune

    _quiet()
    _threads()
    device = trial_device(job.train.device)
    fitter = make_fitter(job, config, device)  # K×R fitters when task.cv or task.repeats is set
    start = 0
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as directory:
            start = fitter.load_state(load_checkpoint_state(directory))
    where = {**placement(), **_costs(fitter)}
    epochs = fitter.settings.epochs
    cadence = Cadence(job.train.checkpoint_every, epochs, getattr(job, "sync_every", None))
    for epoch in range(start + 1, epochs + 1):
        metrics = {**run_epoch(fitter, epoch), **where}
        if isinstance(fitter, CrossValidatedFitter):
            metrics.update(fitter.spread)  # val_accuracy is the mean over folds; this is its spread
        if metrics["diverged"] or metrics.get("oom"):
            report(metrics)
            return
        from autolearn.training.optim import step_schedule

        step_schedule(fitter.settings.lr_schedule, fitter.schedule, metrics["val_loss"])
        if cadence.due(epoch):
            with tempfile.TemporaryDirectory() as directory:
                torch.save(fitter.state(epoch), Path(directory) / CHECKPOINT_FILE)
                report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))
        else:
            report(metrics)

"""Measure one trial (`autolearn profile`) and size `resources.gpus_per_trial: auto` from it.

A guessed GPU share wastes a card (a small trial on a whole GPU) or runs out of memory (a share
too small). The spec's base config trains for an epoch or two here, in this process: the peak
memory it needed (`torch.cuda.max_memory_allocated` on a GPU; this process's peak RSS on a CPU)
and its samples per second give the packing: as many trials per card as fit with a margin.

`auto` is measured on the driver's GPU, before the sweep; with no GPU here it resolves to 0 (a
note says so): on a cluster whose driver has no GPU, give the share as a number.
"""
from __future__ import annotations

import logging
import math
import os
import resource
import time
from dataclasses import dataclass, replace
from typing import Any

import torch

from autolearn.config.spec import Experiment
from autolearn.errors import ConfigError

log = logging.getLogger(__name__)
MARGIN = 0.2  # headroom over the measured peak: batches of other sizes, allocator fragmentation
CUDA_CONTEXT_BYTES = 512 * 2**20  # per process, not counted by max_memory_allocated
MAX_PER_GPU = 16  # beyond this the trials fight over the card's compute, not its memory


@dataclass(frozen=True)
class Profile:
    """What one trial of the spec's base config measured, and the packing it suggests."""

    device: str
    memory_kind: str  # "gpu" (peak allocated) or "cpu_rss" (peak resident set of this process)
    peak_memory_bytes: int
    total_memory_bytes: int  # the card's memory, or the machine's
    samples_per_s: float
    seconds_per_epoch: float
    epochs: int
    trials_per_device: int  # trials that fit on one card (GPU) or one machine (CPU)
    gpus_per_trial: float  # the suggested share (0 on a CPU)


def pack_gpu(peak: int, total: int, margin: float = MARGIN) -> tuple[int, float]:
    """(trials per card, share per trial) for trials that each peak at `peak` bytes."""
    need = peak * (1 + margin) + CUDA_CONTEXT_BYTES
    k = max(1, min(MAX_PER_GPU, int(total // need)))
    return k, math.floor(10_000 / k) / 10_000  # rounded down: k shares must fit in one GPU


def pack_cpu(peak: int, total: int, cpus_per_trial: float, margin: float = MARGIN) -> int:
    """Trials one machine holds: by its cores and by its memory at the measured peak RSS."""
    by_cores = int((os.cpu_count() or 1) // max(cpus_per_trial, 1e-9))
    by_memory = int(total // (peak * (1 + margin)))
    return max(1, min(by_cores, by_memory))


def _device(exp: Experiment) -> torch.device:
    train = exp.builtin_sections()[2]
    return torch.device("cuda", 0) if torch.cuda.is_available() and train.device != "cpu" else torch.device("cpu")


def _job(exp: Experiment) -> Any:
    from autolearn.training.data import load_dataset
    from autolearn.training.loop import TrainJob

    dataset, model, train = exp.builtin_sections()
    if train.batch_size == "auto":
        raise ConfigError("train.batch_size", "profile measures one trial at a fixed batch; give a number "
                          "(or run `autolearn lr-find`, which resolves batch_size: auto)")
    split = exp.task.split
    data = load_dataset(dataset.name, dict(dataset.params), split.test, split.validation, split.random_state)
    return TrainJob(data=data, model=model, train=train)


def _peak_rss() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux: KiB


def profile_trial(exp: Experiment, epochs: int = 2, device: torch.device | None = None) -> Profile:
    """Train the spec's base config for `epochs` here and measure it (no Ray)."""
    from autolearn.training.cv import make_fitter

    if not exp.uses_builtin_trainable:
        raise ConfigError("task.trainable", "profile trains the built-in loop's model; a user trainable has none")
    device = device or _device(exp)
    fitter = make_fitter(_job(exp), {}, device)
    n_train = getattr(fitter, "n_train", None) or len(getattr(fitter, "x_train", ()))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    train_time, total_time = 0.0, 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        fitter.train_epoch()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        train_time += time.perf_counter() - start
        fitter.validate()
        total_time += time.perf_counter() - start
    if device.type == "cuda":
        peak = int(torch.cuda.max_memory_allocated(device))
        total = int(torch.cuda.get_device_properties(device).total_memory)
        k, share = pack_gpu(peak, total)
        name, kind = f"{device} ({torch.cuda.get_device_name(device)})", "gpu"
    else:
        peak = _peak_rss()
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        k, share, name, kind = pack_cpu(peak, total, exp.resources.cpus_per_trial), 0.0, "cpu", "cpu_rss"
    return Profile(name, kind, peak, total, n_train * epochs / max(train_time, 1e-9), total_time / epochs,
                   epochs, k, share)


def resolve_gpus(exp: Experiment) -> tuple[Experiment, dict[str, Any]]:
    """`resources.gpus_per_trial: auto` -> the share one measured epoch suggests (0 without a GPU)."""
    if not torch.cuda.is_available() or exp.builtin_sections()[2].device == "cpu":
        note = "no CUDA GPU on this machine (or train.device: cpu): gpus_per_trial auto -> 0, trials run on CPUs"
        log.warning(note)
        share, notes = 0.0, {"gpus_per_trial": 0.0, "note": note}
    else:
        measured = profile_trial(exp, epochs=1)
        share = measured.gpus_per_trial
        notes = {"gpus_per_trial": share, "trials_per_gpu": measured.trials_per_device,
                 "peak_memory_bytes": measured.peak_memory_bytes, "gpu_memory_bytes": measured.total_memory_bytes,
                 "seconds_per_epoch": measured.seconds_per_epoch, "device": measured.device}
        log.warning("gpus_per_trial: auto -> %s (%d trials per GPU; one trial peaked at %.0f MiB)",
                    share, measured.trials_per_device, measured.peak_memory_bytes / 2**20)
    exp = exp.with_overrides(resources=replace(exp.resources, gpus_per_trial=share))
    from autolearn.training.checks import check_torch_settings

    check_torch_settings(exp, None)  # precision 16 with no GPU after all: the same load-time error
    return exp, notes

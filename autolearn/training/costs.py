"""What a model costs, for objectives and constraints beside accuracy: its size and its speed.

The trainable measures these once per trial (the architecture, not the weights, sets them) and
reports them in every epoch's metrics, so a trial's last report always carries them:

- `n_params`: trainable and frozen parameters of the model;
- `latency_ms`: inference time per example, on the trial's device and threads: the median of a
  few timed forward passes over the validation batch (after warm-up passes, which pay for lazy
  initialisation and caches), divided by the batch's size. A throughput-style latency: it is what
  a served model costs per example when it scores a batch of this size;
- `epoch_time_s` (the trainable times each `train_epoch`): the training cost of one epoch.

The cost is a few forward passes of the validation batch per trial: below one training epoch.
"""
from __future__ import annotations

import statistics
import time

import torch
from torch import nn

WARMUP = 3
REPEATS = 10


def parameter_count(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


@torch.no_grad()
def latency_ms(model: nn.Module, x: torch.Tensor, repeats: int = REPEATS, warmup: int = WARMUP) -> float:
    """Median milliseconds per example of `model(x)` in eval mode; the model's mode is restored."""
    if len(x) == 0:
        return float("nan")
    was_training = model.training
    model.eval()
    try:
        timings = []
        for i in range(warmup + repeats):
            _sync(x)
            start = time.perf_counter()
            model(x)
            _sync(x)
            if i >= warmup:
                timings.append(time.perf_counter() - start)
        return 1000.0 * statistics.median(timings) / len(x)
    finally:
        model.train(was_training)


def _sync(x: torch.Tensor) -> None:
    """CUDA runs asynchronously: wait for it, or the clock times only the launch."""
    if x.is_cuda:
        torch.cuda.synchronize(x.device)


def model_costs(model: nn.Module, x_val: torch.Tensor) -> dict[str, float]:
    """The per-trial metrics of this module (all but `epoch_time_s`, which the loop times)."""
    return {"n_params": parameter_count(model), "latency_ms": latency_ms(model, x_val)}

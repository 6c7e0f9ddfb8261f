"""The batch-size finder behind `train.batch_size: auto`: the largest batch this hardware takes.

On a GPU, memory is the hard limit and the only honest test is to try: double the batch until a
training step runs out of memory, then bisect between the last batch that fit and the first that
did not (catching only out-of-memory errors; anything else is a real bug and is raised). On a CPU,
running out of memory means swapping or the OOM killer, not an exception, so the finder measures
instead: the bytes a step needs (parameters, gradients, optimizer state, and activations per
sample) against `train.batch_memory_mb` cap the batch, and among the powers of two under that cap
it takes the smallest whose measured samples per second come within `MIN_GAIN` of the fastest
(on a CPU a bigger batch soon stops buying speed, and then only means fewer updates per epoch).
Model, optimizer and shuffling state are restored afterwards.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from autolearn.errors import ConfigError
from autolearn.training.loop import Fitter
from autolearn.training.lr_finder import restore_state, save_state

MIN_GAIN = 1.1        # CPU: a batch within 10% of the fastest samples/s is fast enough
MB = 2 ** 20


@dataclass
class BatchSizeResult:
    batch_size: int
    rule: str
    tried: list[dict[str, Any]] = field(default_factory=list)  # {batch_size, fits, samples_per_s}
    memory: dict[str, float] = field(default_factory=dict)     # CPU: fixed_mb, per_sample_mb, budget_mb


def _step(fitter: Fitter, batch: int) -> None:
    """One forward/backward/optimizer step on `batch` training rows (repeated when the data is smaller)."""
    n = len(fitter.x_train)
    idx = torch.arange(batch, device=fitter.device) % n
    fitter.optimizer.zero_grad(set_to_none=True)
    fitter._loss(fitter.model(fitter.x_train[idx]), fitter.y_train[idx]).backward()
    fitter.optimizer.step()


def _throughput(fitter: Fitter, batch: int, rounds: int = 3, seconds: float = 0.02) -> float:
    """Samples per second of training steps at `batch`: the best of a few rounds of at least
    `seconds` each, after one warm-up step (the best, because other processes only slow a round)."""
    _step(fitter, batch)
    best = 0.0
    for _ in range(rounds):
        started, steps = time.perf_counter(), 0
        while steps == 0 or time.perf_counter() - started < seconds:
            _step(fitter, batch)
            steps += 1
        if fitter.device.type == "cuda":
            torch.cuda.synchronize(fitter.device)
        best = max(best, steps * batch / (time.perf_counter() - started))
    return best


def step_memory(fitter: Fitter) -> tuple[float, float]:
    """(fixed bytes, bytes per sample) of one training step, measured on the model itself.

    Fixed: every tensor the step keeps whatever the batch (parameters, gradients, the optimizer's
    state after one step). Per sample: the outputs of every module in a forward pass (kept for the
    backward pass) and their gradients, plus the input row.
    """
    _step(fitter, 2)
    tensors = [p for p in fitter.model.parameters()] + [p.grad for p in fitter.model.parameters() if p.grad is not None]
    tensors += [t for state in fitter.optimizer.state.values() for t in state.values() if torch.is_tensor(t)]
    fixed = float(sum(t.numel() * t.element_size() for t in tensors))
    outputs: list[int] = []

    def hook(_: Any, __: Any, output: Any) -> None:
        if torch.is_tensor(output):
            outputs.append(output.numel() * output.element_size())

    handles = [m.register_forward_hook(hook) for m in fitter.model.modules()]
    try:
        with torch.no_grad():
            fitter.model(fitter.x_train[:2])
    finally:
        for handle in handles:
            handle.remove()
    row = fitter.x_train[:1].numel() * fitter.x_train.element_size()
    return fixed, sum(outputs) + row  # measured on 2 rows: ÷2 per sample, ×2 for the gradients


def _cpu(fitter: Fitter, budget_mb: float, limit: int) -> BatchSizeResult:
    fixed, per_sample = step_memory(fitter)
    room = int((budget_mb * MB - fixed) // per_sample)
    memory = {"fixed_mb": fixed / MB, "per_sample_mb": per_sample / MB, "budget_mb": budget_mb}
    if room < 1:
        need = (fixed + per_sample) / MB
        raise ConfigError("train.batch_memory_mb", f"{budget_mb:g} MB leaves no room for one sample: the "
                          f"model's parameters, gradients and optimizer state take {fixed / MB:.2f} MB and "
                          f"one sample {per_sample / MB:.4f} MB more; allow at least {need:.2f} MB")
    cap = min(room, limit)
    sizes = sorted({min(2 ** i, cap) for i in range(cap.bit_length() + 1)})
    tried = [{"batch_size": b, "fits": True, "samples_per_s": round(_throughput(fitter, b), 1)} for b in sizes]
    fastest = max(t["samples_per_s"] for t in tried)
    chosen = next(t["batch_size"] for t in tried if t["samples_per_s"] * MIN_GAIN >= fastest)
    return BatchSizeResult(chosen, f"smallest batch within {budget_mb:g} MB that reaches 1/{MIN_GAIN:g} of "
                           "the best samples/s (larger ones add little speed, only fewer updates)",
                           tried=tried, memory=memory)


def _is_oom(err: BaseException) -> bool:
    return isinstance(err, torch.cuda.OutOfMemoryError) or "out of memory" in str(err)


def _fits(fitter: Fitter, batch: int, tried: list[dict[str, Any]]) -> bool:
    try:
        _step(fitter, batch)
        ok = True
    except RuntimeError as err:  # only out-of-memory means "too big"; anything else is a bug
        if not _is_oom(err):
            raise
        ok = False
    fitter.optimizer.zero_grad(set_to_none=True)
    torch.cuda.empty_cache()
    tried.append({"batch_size": batch, "fits": ok})
    return ok


def _gpu(fitter: Fitter, limit: int, start: int = 32) -> BatchSizeResult:
    out = BatchSizeResult(0, "double until out of memory, then bisect")
    low, high = 0, None  # the largest batch that fit, the smallest that did not
    batch = min(start, limit)
    while high is None:
        if _fits(fitter, batch, out.tried):
            low = batch
            if batch >= limit:
                break
            batch = min(batch * 2, limit)
        else:
            high = batch
    while high is not None and high - low > 1:
        mid = (low + high) // 2
        if _fits(fitter, mid, out.tried):
            low = mid
        else:
            high = mid
    if low < 1:
        raise ConfigError("train.batch_size", "auto: not even one sample fits in the GPU's free memory")
    out.batch_size = low
    return out


def find_batch_size(fitter: Fitter, memory_mb: float | None = None, limit: int | None = None) -> BatchSizeResult:
    """The batch for this model on this device; `limit` defaults to the training split's size."""
    limit = min(limit or len(fitter.x_train), len(fitter.x_train))
    saved = save_state(fitter)
    search: Callable[[], BatchSizeResult] = ((lambda: _gpu(fitter, limit)) if fitter.device.type == "cuda"
                                             else (lambda: _cpu(fitter, memory_mb or default_budget_mb(), limit)))
    try:
        return search()
    finally:
        restore_state(fitter, saved)


def default_budget_mb() -> float:
    """An eighth of the memory free now: room for several trials beside the driver."""
    import psutil

    return float(psutil.virtual_memory().available / MB / 8)

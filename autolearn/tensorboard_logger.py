"""TensorBoard from the driver: one run per trial, written as results arrive.

Writing on the driver, not in the trial, means every trial's events land in the experiment folder
whatever node it ran on, and user trainables get the same curves for free.
"""
from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any, Mapping

from ray.tune import Callback

# Reported name → TensorBoard tag: grouped so the loss and accuracy panels compare trials.
TAGS = {"train_loss": "train/loss", "val_loss": "val/loss", "val_accuracy": "val/accuracy",
        "train_accuracy": "train/accuracy", "lr": "lr"}
_SKIP = {"epoch", "training_iteration", "timestamp", "time_this_iter_s", "time_total_s", "time_since_restore",
         "iterations_since_restore", "pid", "done", "diverged", "node", "gpu_ids", "trial_id"}


def scalars(result: Mapping[str, Any]) -> dict[str, float]:
    """The numeric metrics of one report, under their TensorBoard tags."""
    out = {}
    for key, value in result.items():
        if key in _SKIP or isinstance(value, bool) or not isinstance(value, numbers.Real):
            continue
        out[TAGS.get(key, key)] = float(value)
    return out


def run_name(trial_id: str, config: Mapping[str, Any], keys: list[str]) -> str:
    """`00003_lr=0.0012,optimizer=adam`: the short id first so runs sort by trial."""
    short = trial_id.rsplit("_", 1)[-1]
    parts = []
    for key in keys[:4]:
        value = config.get(key)
        if isinstance(value, float):
            value = f"{value:.3g}"
        parts.append(f"{key}={value}")
    return "_".join([short, ",".join(parts)]) if parts else short


class TensorBoardCallback(Callback):
    """Writes every reported metric of every trial; the HParams summary is written on completion."""

    def __init__(self, logdir: str | Path, space_keys: list[str]) -> None:
        self.logdir = Path(logdir)
        self.space_keys = space_keys
        self._writers: dict[str, Any] = {}

    def _writer(self, trial: Any) -> Any:
        from torch.utils.tensorboard import SummaryWriter

        if trial.trial_id not in self._writers:
            name = run_name(trial.trial_id, trial.config, self.space_keys)
            self._writers[trial.trial_id] = SummaryWriter(str(self.logdir / name), flush_secs=5)
        return self._writers[trial.trial_id]

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        writer = self._writer(trial)
        step = int(result.get("training_iteration", 0))
        for tag, value in scalars(result).items():
            if math.isfinite(value):
                writer.add_scalar(tag, value, step)

    def _close(self, trial: Any) -> None:
        writer = self._writers.pop(trial.trial_id, None)
        if writer is not None:
            writer.close()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._close(trial)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._close(trial)

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

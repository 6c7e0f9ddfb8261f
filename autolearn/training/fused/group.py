"""FusedGroup: the MemberGroup protocol over the fused core, for configs of the built-in loop.

Every member is first built exactly as its solo trial builds it, by `Fitter.__init__` itself
(seed, model, optimizer, schedule, batch size, data-order generator) minus the data copies; the
core copies that model's weights in. Metrics, schedule steps and divergence follow `train_trial`
line by line, and `member_state` returns `Fitter.state`'s format, so a checkpoint written from a
fused member resumes solo and the other way round.
"""
from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from autolearn.config.plugins import resolve
from autolearn.training.loop import Fitter, TrainJob, split_config
from autolearn.training.models import MODELS, cnn, mlp
from autolearn.training.optim import OPTIMIZERS, step_schedule

from .core import FusedCore
from .layers import NotFusable


class _Template(Fitter):
    """A Fitter without its own copy of the data: the member's solo objects, built by Fitter's code."""

    def _tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.empty(len(x), 0), torch.empty(len(y))  # right length (batch size), no storage


def fuse_blocker(job: TrainJob, config: Mapping[str, Any]) -> str | None:
    """Why this config cannot train fused (one line), or None when it can."""
    if getattr(job, "resampling", None) is not None:
        return "task.cv / task.repeats train several fits per trial (training/cv.py); a member is one fit"
    if not hasattr(job.data, "x_train"):
        return "the data set is torch Datasets read through DataLoaders in each trial; fusion needs arrays"
    try:
        builder = resolve(job.model.name, MODELS, "model.name", "model")
    except Exception as err:  # an unknown or unimportable model is the solo path's error to raise
        return f"the model cannot be resolved ({err})"
    if builder not in (mlp, cnn):
        return f"fused training stacks the built-in mlp and cnn only; the model is {job.model.name!r}"
    settings, model_params = split_config(job, config)
    if str(settings.precision) != "32" or settings.compile:
        return "train.precision / train.compile: fused members train in float32, uncompiled"
    if settings.optimizer not in OPTIMIZERS:
        return f"optimizer {settings.optimizer!r} has no vectorised rule"
    dropout = float(model_params.get("dropout", 0.0) or 0.0)
    if dropout and job.train.device != "cpu" and torch.cuda.is_available():
        return "dropout on a GPU draws from the CUDA generator, which fused members cannot replay"
    return None


class FusedGroup:
    """Members of one sweep trained as one batched model on `device`.

    A member that finished, diverged or was dropped leaves the group; its `member_state` stays
    readable until the next `train_epoch` (time to checkpoint it), then it is forgotten.
    """

    def __init__(self, job: TrainJob, device: torch.device, max_pad: float = 2.0, mix_batches: bool = True) -> None:
        self.job, self.device = job, device
        data = job.data
        tensor = lambda a: torch.tensor(np.array(a))
        self.core = FusedCore(tensor(data.x_train), tensor(data.y_train).long(), tensor(data.x_val),
                              tensor(data.y_val).long(), data.n_outputs == 1, device, max_pad, mix_batches)
        self.solo: dict[str, _Template] = {}
        self.epoch: dict[str, int] = {}
        self._left: list[str] = []

    def add(self, key: str, config: Mapping[str, Any], state: Mapping[str, Any] | None = None) -> None:
        reason = fuse_blocker(self.job, config)
        if reason is not None:
            raise NotFusable(reason)
        solo = _Template(self.job, config, torch.device("cpu"))
        # What nn.Dropout would draw from in the solo process: the global RNG right after the build.
        dropout_generator = torch.Generator().set_state(torch.get_rng_state())
        start = solo.load_state(state) if state is not None else 0
        if key in self._left:  # back before its old self was forgotten (a retry): keep the new one
            self._left.remove(key)
        self.solo[key], self.epoch[key] = solo, start
        if start >= solo.settings.epochs:  # nothing left to train, as train_trial's loop would find
            self._left.append(key)
            return
        try:
            self.core.add(key, solo.model, solo.optimizer, solo.batch_size, solo.generator, dropout_generator)
        except Exception:
            del self.solo[key], self.epoch[key]
            raise

    def active(self) -> list[str]:
        return self.core.keys()

    def nbytes(self) -> int:
        """Device memory of the stacked parameters, gradients and optimizer state (for choosing K)."""
        return self.core.nbytes()

    def train_epoch(self) -> dict[str, dict[str, Any]]:
        self._forget()
        keys = self.core.keys()
        lrs = {key: self.solo[key].lr for key in keys}
        losses = self.core.train_epoch()
        scores = self.core.validate()
        out: dict[str, dict[str, Any]] = {}
        for key in keys:
            solo, epoch, train_loss = self.solo[key], self.epoch[key] + 1, losses[key]
            val_loss, val_accuracy = scores[key] if math.isfinite(train_loss) else (math.nan, math.nan)
            diverged = not (math.isfinite(train_loss) and math.isfinite(val_loss))
            out[key] = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                        "val_accuracy": val_accuracy, "lr": lrs[key], "diverged": diverged}
            self.epoch[key] = epoch
            if not diverged:
                with warnings.catch_warnings():  # the solo optimizer never steps itself: the core does
                    warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step")
                    step_schedule(solo.settings.lr_schedule, solo.schedule, val_loss)
            if diverged or epoch >= solo.settings.epochs:
                self._leave(key)
        return out

    def member_state(self, key: str) -> dict[str, Any]:
        if key in self.core.members:
            self.core.sync(key)
        solo = self.solo[key]
        return copy.deepcopy(solo.state(self.epoch[key]))

    def drop(self, key: str) -> None:
        if key in self.core.members:
            self._leave(key)

    def _leave(self, key: str) -> None:
        self.core.remove(key)
        self._left.append(key)

    def _forget(self) -> None:
        for key in self._left:
            self.solo.pop(key, None)
            self.epoch.pop(key, None)
        self._left = []

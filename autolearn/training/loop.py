"""The pieces of one training run that do not depend on Ray: settings, epochs, evaluation.

Kept apart from the Ray trainable so the test-split evaluation of the best trial and the plain
PyTorch baseline of the benchmarks run exactly the same code as the trials.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from autolearn.config.sections import TRAIN_TUNABLE, ModelSpec, TrainSpec
from autolearn.training.data import Dataset
from autolearn.training.models import build_model
from autolearn.training.optim import FULL_BATCH, make_optimizer, make_schedule
from autolearn.training.precision import compiled, make_mixed


@dataclass(frozen=True)
class TrainJob:
    """What every trial of a sweep shares; sent once through Ray's object store."""

    data: Dataset  # or a torch_data.TorchData: torch Datasets, built in each trial (LoaderFitter)
    model: ModelSpec
    train: TrainSpec
    resampling: Any = None  # training.cv.Resampling: the folds/repeats of task.cv, None for one split


def split_config(job: TrainJob, config: Mapping[str, Any]) -> tuple[TrainSpec, dict[str, Any]]:
    """Route a trial's flat config: training settings to `TrainSpec`, the rest to the model."""
    train_over = {k: v for k, v in config.items() if k in TRAIN_TUNABLE}
    model_over = {k: v for k, v in config.items() if k not in TRAIN_TUNABLE}
    settings = replace(job.train, **train_over)
    return settings, {**job.model.params, **model_over}


class Evaluator:
    """A config's model and loss, and the score of a split: all a test evaluation needs.

    No optimizer on purpose: building the first one in a process imports `torch._dynamo`
    (about 2 s), which the driver, validating the model and scoring the best one, need not pay.
    """

    def __init__(self, job: TrainJob, config: Mapping[str, Any], device: torch.device) -> None:
        self.settings, model_params = split_config(job, config)
        if self.settings.seed is not None:
            torch.manual_seed(self.settings.seed)
        data = job.data
        self.binary = data.n_outputs == 1
        self.device = device
        self.model = build_model(job.model.name, model_params, data.input_shape, data.n_outputs).to(device)
        self.loss_fn: nn.Module = nn.BCEWithLogitsLoss() if self.binary else nn.CrossEntropyLoss()

    def _tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        # A copy: arrays from Ray's object store are read-only, and the copy is small.
        xt = torch.tensor(x, device=self.device)
        yt = torch.tensor(y, device=self.device)
        return xt, (yt.float() if self.binary else yt.long())

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(logits.squeeze(1) if self.binary else logits, y)

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """(loss, accuracy) on a split, in eval mode."""
        self.model.eval()
        logits = self.model(x)
        loss = float(self._loss(logits, y))
        pred = (logits.squeeze(1) > 0).long() if self.binary else logits.argmax(dim=1)
        accuracy = float((pred == y.long()).float().mean())
        return loss, accuracy


class Fitter(Evaluator):
    """Model, optimizer and schedule for one config, with an epoch step and an evaluation."""

    def __init__(self, job: TrainJob, config: Mapping[str, Any], device: torch.device) -> None:
        super().__init__(job, config, device)
        s = self.settings
        self.optimizer = make_optimizer(s.optimizer, self.model.parameters(), s.lr, s.weight_decay, s.momentum)
        self.schedule = make_schedule(s.lr_schedule, self.optimizer, s.epochs, s)
        self.generator = torch.Generator().manual_seed(s.seed if s.seed is not None else 0)
        self.mixed = make_mixed(s.precision, device)  # None: the plain float32 step
        self.forward = compiled(self.model, bool(s.compile))
        self._setup_data(job)

    def _setup_data(self, job: TrainJob) -> None:
        """The arrays as tensors on the device (`LoaderFitter` reads DataLoaders instead)."""
        data = job.data
        self.x_train, self.y_train = self._tensors(data.x_train, data.y_train)
        self.x_val, self.y_val = self._tensors(data.x_val, data.y_val)
        n = len(self.x_train)
        self.batch_size = n if self.settings.optimizer in FULL_BATCH else min(int(self.settings.batch_size), n)

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(len(self.x_train), generator=self.generator).to(self.device)
        for start in range(0, len(self.x_train), self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.x_train[idx], self.y_train[idx]

    def train_epoch(self) -> float:
        """One pass in shuffled mini-batches; returns the mean training loss (may be nan/inf)."""
        self.model.train()
        total, n = 0.0, 0
        for x, y in self._batches():
            self.optimizer.zero_grad(set_to_none=True)
            if self.mixed is None:
                loss = self._loss(self.forward(x), y)
                loss.backward()
                self.optimizer.step()
            else:
                with self.mixed.autocast():
                    loss = self._loss(self.forward(x), y)
                self.mixed.backward_step(loss, self.optimizer)
            total += float(loss.detach()) * len(y)
            n += len(y)
            if not math.isfinite(total):
                return total  # diverged: no point finishing the epoch
        return total / max(n, 1)

    def validate(self) -> tuple[float, float]:
        return self.evaluate(self.x_val, self.y_val)

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state(self, epoch: int) -> dict[str, Any]:
        state = {"epoch": epoch, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "schedule": self.schedule.state_dict(), "generator": self.generator.get_state()}
        if self.mixed is not None and self.mixed.scaler is not None:
            state["scaler"] = self.mixed.state_dict()
        return state

    def load_state(self, state: Mapping[str, Any]) -> int:
        """Restore a checkpoint's state; returns the epoch it was taken after."""
        self.model.load_state_dict(state["model"])
        if "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
        if "schedule" in state:
            self.schedule.load_state_dict(state["schedule"])
        if "generator" in state:
            self.generator.set_state(state["generator"])
        if "scaler" in state and self.mixed is not None:
            self.mixed.load_state_dict(state["scaler"])
        return int(state.get("epoch", 0))


def evaluate_on_test(job: TrainJob, config: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, float]:
    """Score a trained model (from a checkpoint's state) on the held-out test split."""
    from autolearn.training.torch_data import TorchData

    if isinstance(job.data, TorchData):
        from autolearn.training.loader_fit import evaluate_loader_test

        return evaluate_loader_test(job, config, state)
    scorer = Evaluator(job, config, torch.device("cpu"))
    scorer.model.load_state_dict(state["model"])
    x, y = scorer._tensors(job.data.x_test, job.data.y_test)
    loss, accuracy = scorer.evaluate(x, y)
    return {"test_loss": loss, "test_accuracy": accuracy}

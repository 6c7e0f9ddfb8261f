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
    # Population-based training (search/population.py): the settings an exploit may change, and the
    # epochs (every `sync_every`) at which a checkpoint must exist for a better trial to be cloned.
    mutable: tuple[str, ...] = ()
    sync_every: int | None = None


def split_config(job: TrainJob, config: Mapping[str, Any]) -> tuple[TrainSpec, dict[str, Any]]:
    """Route a trial's flat config: training settings to `TrainSpec`, the rest to the model."""
    train_over = {k: v for k, v in config.items() if k in TRAIN_TUNABLE}
    model_over = {k: v for k, v in config.items() if k not in TRAIN_TUNABLE}
    settings = replace(job.train, **train_over)
    return settings, {**job.model.params, **model_over}


# Optimizer settings a config sets and an exploit must keep (the learning rate is handled apart:
# a schedule has moved it since the start).
_GROUP_SETTINGS = ("momentum", "weight_decay")
_RATES = ("lr", "initial_lr", "max_lr", "min_lr")  # every rate torch's schedules keep in a param group


def _build(job: TrainJob, params: dict[str, Any], input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
    """The model; when dropout may mutate, always with its Dropout modules (a builder leaves them out
    at p = 0), so a checkpoint of any dropout loads into any other and `p` is set afterwards."""
    if "dropout" not in getattr(job, "mutable", ()) or "dropout" not in params:
        return build_model(job.model.name, params, input_shape, n_outputs)
    model = build_model(job.model.name, {**params, "dropout": 0.5}, input_shape, n_outputs)
    set_dropout(model, float(params["dropout"]))
    return model


def set_dropout(model: nn.Module, p: float) -> None:
    """Every dropout module's probability (they hold no weights: changing `p` is all there is)."""
    for module in model.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd):
            module.p = p


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
        self.model = _build(job, model_params, data.input_shape, data.n_outputs).to(device)
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
                 "schedule": self.schedule.state_dict(), "generator": self.generator.get_state(),
                 "lr_base": float(self.settings.lr)}
        if self.mixed is not None and self.mixed.scaler is not None:
            state["scaler"] = self.mixed.state_dict()
        return state

    def load_state(self, state: Mapping[str, Any]) -> int:
        """Restore a checkpoint's state; returns the epoch it was taken after.

        The checkpoint may be another trial's (a population exploit) taken under other settings:
        the weights and the optimizer's state (momentum buffers, Adam's moments, the schedule's
        position) come from it, but the settings in force are this config's. torch's
        `load_state_dict` would bring back the checkpoint's rate, momentum and weight decay with
        the state, so they are put back: the rate as this config's `lr` times however far the
        schedule had moved the checkpoint's own base rate (1 for `constant`).
        """
        fresh = [{k: g[k] for k in _GROUP_SETTINGS if k in g} for g in self.optimizer.param_groups]
        self.model.load_state_dict(state["model"])
        if "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
        if "schedule" in state:
            self.schedule.load_state_dict(state["schedule"])
        if "generator" in state:
            self.generator.set_state(state["generator"])
        self._apply_settings(fresh, float(state.get("lr_base", self.settings.lr)))
        if "scaler" in state and self.mixed is not None:
            self.mixed.load_state_dict(state["scaler"])
        return int(state.get("epoch", 0))

    def _apply_settings(self, fresh: list[dict[str, Any]], old_base: float) -> None:
        new_base = float(self.settings.lr)

        def rebased(rate: float) -> float:
            return new_base * (rate / old_base) if old_base else new_base

        for group, kept in zip(self.optimizer.param_groups, fresh):
            group.update(kept)
            for key in _RATES:
                if isinstance(group.get(key), float):
                    group[key] = rebased(group[key])
        if isinstance(getattr(self.schedule, "base_lrs", None), list):
            self.schedule.base_lrs = [rebased(b) for b in self.schedule.base_lrs]


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

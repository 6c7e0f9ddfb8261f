"""Cross-validation and repeats: score a config by K folds (times R seeds) of the training part.

On the seed task one validation split holds 160 examples, so one example is 0.6 points and the
luck of the split can pick the winner. With `task.cv: {folds: K}` each trial trains K models, one
per fold of the *training part* (the train and validation splits together), and reports per epoch
the mean validation score (the metric the searcher and ASHA see) with its standard deviation
(`val_accuracy_std`, `val_loss_std`). `task.repeats: R` repeats that with R seeds (and, with folds,
R different fold assignments). The test split is never handed to a fold: each fold's data set has
an empty test part. After the sweep, `retrain_and_test` trains the best config once on the whole
training part for the epochs it needed and scores that model on the test split.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from autolearn.config.sections import TaskSpec
from autolearn.errors import ConfigError
from autolearn.training.data import Dataset
from autolearn.training.loop import Fitter, TrainJob, split_config
from autolearn.training.optim import step_schedule


@dataclass(frozen=True)
class Fold:
    """One fit of a config: rows of the training part to train and validate on, and its repeat."""

    train: np.ndarray
    val: np.ndarray
    repeat: int = 0


@dataclass(frozen=True)
class Resampling:
    """Every fit a trial makes; planned once on the driver, so all trials share the same folds."""

    folds: tuple[Fold, ...]
    k: int  # folds per repeat (1: the single validation split)
    repeats: int


def training_part(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The rows a config may learn from: train then validation split; the test split is not in it."""
    return np.concatenate([data.x_train, data.x_val]), np.concatenate([data.y_train, data.y_val])


def plan_resampling(task: TaskSpec, data: Dataset, random_state: int | None = None) -> Resampling | None:
    """The folds of `task.cv` and `task.repeats` (None when neither is set: the plain single split).

    Stratified folds come from scikit-learn's StratifiedKFold, shuffled with the split's
    `random_state` (plus the repeat number), so the same spec gives the same folds every run.
    """
    if task.cv is None and task.repeats == 1:
        return None
    if not isinstance(data, Dataset):  # torch Datasets are read in the trial; folds would need all labels here
        raise ConfigError("task.cv", "cross-validation and repeats work on (X, y) array data sets; "
                          "this builder returns torch Datasets: remove task.cv / task.repeats")
    seed = task.split.random_state if random_state is None else random_state
    _, y = training_part(data)
    if task.cv is None:  # repeats of the single split: the same rows, other seeds
        n_train = len(data.y_train)
        single = (np.arange(n_train), np.arange(n_train, len(y)))
        return Resampling(tuple(Fold(*single, repeat=r) for r in range(task.repeats)), 1, task.repeats)
    k = task.cv.folds
    check_folds(y, k, task.cv.stratified)
    from sklearn.model_selection import KFold, StratifiedKFold

    folds = []
    for r in range(task.repeats):
        state = None if seed is None else seed + r
        splitter = (StratifiedKFold if task.cv.stratified else KFold)(k, shuffle=True, random_state=state)
        folds += [Fold(tr, va, r) for tr, va in splitter.split(np.zeros(len(y)), y)]
    return Resampling(tuple(folds), k, task.repeats)


def check_folds(y: np.ndarray, k: int, stratified: bool) -> None:
    """K folds need K examples of every class (stratified) or K rows (plain K-fold)."""
    if stratified:
        smallest = int(np.bincount(y)[np.bincount(y) > 0].min())
        if k > smallest:
            raise ConfigError("task.cv.folds", f"{k} stratified folds need at least {k} examples of every "
                              f"class in the training part; the smallest class has {smallest}: use at most "
                              f"{smallest} folds")
    elif k > len(y):
        raise ConfigError("task.cv.folds", f"{k} folds need at least {k} rows; the training part has {len(y)}")


def fold_dataset(data: Dataset, fold: Fold) -> Dataset:
    """The fold's rows as a data set of their own, with an empty test split (nothing to leak)."""
    x, y = training_part(data)
    return Dataset(x[fold.train], y[fold.train], x[fold.val], y[fold.val], x[:0], y[:0],
                   n_classes=data.n_classes, classes=data.classes)


def _fold_config(job: TrainJob, config: Mapping[str, Any], repeat: int) -> dict[str, Any]:
    """Repeat r trains with seed + r: another initialisation and another batch order."""
    if repeat == 0:
        return dict(config)
    seed = split_config(job, config)[0].seed
    return {**config, "seed": (seed or 0) + repeat}


class _FoldSchedules:
    """All folds' LR schedules behind the one `schedule` the trainable steps and checkpoints."""

    def __init__(self, owner: CrossValidatedFitter) -> None:
        self.owner = owner

    def step(self, *_: Any) -> None:
        for fitter, val_loss in zip(self.owner.fitters, self.owner.val_losses):
            step_schedule(fitter.settings.lr_schedule, fitter.schedule, val_loss)

    def state_dict(self) -> list[dict[str, Any]]:
        return [f.schedule.state_dict() for f in self.owner.fitters]

    def load_state_dict(self, states: list[dict[str, Any]]) -> None:
        for fitter, state in zip(self.owner.fitters, states):
            fitter.schedule.load_state_dict(state)


class CrossValidatedFitter:
    """K×R `Fitter`s of one config that the trainable drives as one: the same interface, mean scores.

    The folds train one after the other in the trial's process, on the trial's resources.
    """

    def __init__(self, job: TrainJob, config: Mapping[str, Any], device: torch.device,
                 resampling: Resampling) -> None:
        self.fitters = [Fitter(replace(job, data=fold_dataset(job.data, fold)),
                               _fold_config(job, config, fold.repeat), device) for fold in resampling.folds]
        self.settings = self.fitters[0].settings
        self.schedule = _FoldSchedules(self)
        self.val_losses = [math.nan] * len(self.fitters)
        self.spread: dict[str, float] = {}

    def train_epoch(self) -> float:
        losses = []
        for fitter in self.fitters:
            losses.append(fitter.train_epoch())
            if not math.isfinite(losses[-1]):
                return losses[-1]  # one fold diverged: the config diverged
        return float(np.mean(losses))

    def validate(self) -> tuple[float, float]:
        """Mean (loss, accuracy) over the folds; their standard deviations go to `spread`."""
        scores = np.array([f.validate() for f in self.fitters], dtype=float)
        self.val_losses = list(scores[:, 0])
        std = scores.std(axis=0, ddof=1) if len(scores) > 1 else np.zeros(2)
        self.spread = {"val_loss_std": float(std[0]), "val_accuracy_std": float(std[1]),
                       "folds": len(self.fitters)}
        return float(scores[:, 0].mean()), float(scores[:, 1].mean())

    @property
    def lr(self) -> float:
        return self.fitters[0].lr

    def state(self, epoch: int) -> dict[str, Any]:
        return {"epoch": epoch, "folds": [f.state(epoch) for f in self.fitters]}

    def load_state(self, state: Mapping[str, Any]) -> int:
        for fitter, fold_state in zip(self.fitters, state["folds"]):
            fitter.load_state(fold_state)
        return int(state.get("epoch", 0))


def make_fitter(job: TrainJob, config: Mapping[str, Any], device: torch.device) -> Fitter | CrossValidatedFitter:
    """The trainable's one call: a plain `Fitter`, or K×R of them when the job has a resampling plan."""
    resampling = getattr(job, "resampling", None)
    from autolearn.training.torch_data import TorchData

    if isinstance(job.data, TorchData):  # torch Datasets: batches from DataLoaders (no cv: checked at load)
        from autolearn.training.loader_fit import LoaderFitter

        return LoaderFitter(job, config, device)
    if resampling is None:
        return Fitter(job, config, device)
    return CrossValidatedFitter(job, config, device, resampling)


def retrain_and_test(job: TrainJob, config: Mapping[str, Any], epochs: int) -> dict[str, float]:
    """Train `config` on the whole training part for `epochs` (the best trial's best epoch), then
    score it on the test split: the one place the test split is read."""
    x, y = training_part(job.data)
    whole = Dataset(x, y, x[:0], y[:0], x[:0], y[:0], n_classes=job.data.n_classes, classes=job.data.classes)
    fitter = Fitter(replace(job, data=whole, resampling=None), config, torch.device("cpu"))
    for _ in range(epochs):
        train_loss = fitter.train_epoch()
        if not math.isfinite(train_loss):
            break
        step_schedule(fitter.settings.lr_schedule, fitter.schedule, train_loss)  # plateau: on the train loss
    x_test, y_test = fitter._tensors(job.data.x_test, job.data.y_test)
    loss, accuracy = fitter.evaluate(x_test, y_test)
    return {"test_loss": loss, "test_accuracy": accuracy}


def resampling_summary(task: TaskSpec, resampling: Resampling, retrain_epochs: int) -> dict[str, Any]:
    """What summary.json records of the cross-validation and the final retrain."""
    return {"folds": resampling.k, "stratified": bool(task.cv.stratified) if task.cv else None,
            "repeats": resampling.repeats, "fits_per_trial": len(resampling.folds),
            "retrained_on": "train+validation", "retrain_epochs": retrain_epochs}

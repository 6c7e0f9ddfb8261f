"""The sections of an experiment spec, each a frozen dataclass that validates its own fields.

Each `from_dict` accepts the YAML form (or an instance) and raises `ConfigError` naming the field
path; checks that need two sections at once live in `validation.py`. The shared field readers
are in `fields.py`, the `train` section in `train_section.py` (both re-exported here).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from autolearn.config.fields import (
    Mode,
    Named,
    _export_name,
    _fields_of,
    _float,
    _int,
    _mapping,
    _name,
    _split_named,
)
from autolearn.config.train_section import LR_SCALING, TRAIN_TUNABLE, TrainSpec, check_train_value
from autolearn.errors import ConfigError

# What the built-in loop measures beside the scores: the model's size, its inference time per
# example on the validation batch, and the training time of an epoch (objectives and constraints).
COST_METRICS = ("n_params", "latency_ms", "epoch_time_s")
BUILTIN_METRICS = ("val_accuracy", "val_loss", "train_loss", *COST_METRICS)


@dataclass(frozen=True)
class DatasetSpec:
    """Which data the built-in loop trains on: a loader and its keyword arguments (the YAML keys
    beside `name`), so a new dataset is a function, not a new section."""

    name: Named = "synthetic_classification"  # registry name, import path, or callable → (X, y)
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "task.dataset") -> DatasetSpec:
        """`{name: csv, path: ..., target: ...}`, a bare name, or a loader callable."""
        if isinstance(data, DatasetSpec):
            return data
        name, params = _split_named(data, path)
        return cls(name, params)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (a callable shown by its import path)."""
        return {"name": _export_name(self.name), **self.params}


@dataclass(frozen=True)
class SplitSpec:
    """How the data is split into train, validation and test: shares, and a seed so every trial of a
    sweep sees the same split. `validation` is a share of what remains after the test split."""

    test: float = 0.2
    validation: float = 0.2
    random_state: int | None = 42

    @classmethod
    def from_dict(cls, data: Any, path: str = "task.split") -> SplitSpec:
        if isinstance(data, SplitSpec):
            return data
        data = _fields_of(cls, data, path)
        out: dict[str, Any] = {}
        for key in ("test", "validation"):
            if key in data:
                value = _float(data[key], f"{path}.{key}", 0.0, 1.0)
                if not 0.0 < value < 1.0:
                    raise ConfigError(f"{path}.{key}", f"must be a share strictly between 0 and 1, got {value}")
                out[key] = value
        if data.get("random_state") is not None:
            out["random_state"] = _int(data["random_state"], f"{path}.random_state", 0)
        elif "random_state" in data:
            out["random_state"] = None
        return cls(**out)


@dataclass(frozen=True)
class CVSpec:
    """K-fold cross-validation of the training part (train + validation); the test split stays out."""

    folds: int = 5
    stratified: bool = True

    @classmethod
    def from_dict(cls, data: Any, path: str = "task.cv") -> CVSpec | None:
        if data is None or isinstance(data, CVSpec):
            return data
        if not isinstance(data, Mapping):
            data = {"folds": data}  # `cv: 5`
        data = _fields_of(cls, data, path)
        folds = _int(data.get("folds", 5), f"{path}.folds")
        if folds < 2:
            raise ConfigError(f"{path}.folds", f"cross-validation needs at least 2 folds, got {folds}; "
                              "remove task.cv to use the single validation split")
        stratified = data.get("stratified", True)
        if not isinstance(stratified, bool):
            raise ConfigError(f"{path}.stratified", f"expected true or false, got {stratified!r}")
        return cls(folds, stratified)


@dataclass(frozen=True)
class TaskSpec:
    """Either a dataset for the built-in loop, or a user `trainable` that reports its own metrics."""

    dataset: DatasetSpec | None = field(default_factory=DatasetSpec)
    split: SplitSpec = field(default_factory=SplitSpec)
    trainable: Named | None = None  # import path or callable fn(config) for user training code
    params: Mapping[str, Any] = field(default_factory=dict)  # fixed config values for `trainable`
    cv: CVSpec | None = None   # score each config by K-fold cross-validation (training/cv.py)
    repeats: int = 1           # train each config (each fold) this many times with different seeds

    @classmethod
    def from_dict(cls, data: Any, path: str = "task") -> TaskSpec:
        if isinstance(data, TaskSpec):
            return data
        data = _fields_of(cls, data, path)
        trainable = data.get("trainable")
        if trainable is not None:
            _name(trainable, f"{path}.trainable")
        dataset = data.get("dataset")
        if trainable is None:
            dataset = DatasetSpec.from_dict(dataset if dataset is not None else {"name": "synthetic_classification"},
                                            f"{path}.dataset")
        elif dataset is not None:
            raise ConfigError(f"{path}.dataset", "a user trainable loads its own data; remove dataset "
                              "(or remove trainable to use the built-in training loop)")
        cv = CVSpec.from_dict(data.get("cv"), f"{path}.cv")
        repeats = _int(data.get("repeats", 1), f"{path}.repeats", 1)
        if trainable is not None and (cv is not None or repeats != 1):
            key = "cv" if cv is not None else "repeats"
            raise ConfigError(f"{path}.{key}", "is for the built-in training loop; a user trainable "
                              "splits its own data")
        return cls(dataset=dataset, split=SplitSpec.from_dict(data.get("split"), f"{path}.split"),
                   trainable=trainable, params=_mapping(data.get("params"), f"{path}.params"),
                   cv=cv, repeats=repeats)


@dataclass(frozen=True)
class ModelSpec:
    """Which network the built-in loop trains: a builder and its fixed keyword arguments (a space
    key that is not a training setting overrides the argument of that name, trial by trial)."""

    name: Named = "mlp"  # registry name, import path, or callable(input_shape, n_outputs, **params)
    params: Mapping[str, Any] = field(default_factory=lambda: {"hidden_units": 64, "depth": 2})

    @classmethod
    def from_dict(cls, data: Any, path: str = "model") -> ModelSpec:
        """`{name: mlp, hidden_units: 64}`, a bare name, or a builder callable."""
        if isinstance(data, ModelSpec):
            return data
        name, params = _split_named(data, path, default="mlp")
        return cls(name, params)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (a callable shown by its import path)."""
        return {"name": _export_name(self.name), **self.params}


@dataclass(frozen=True)
class SearchSpec:
    """How the space is searched: the strategy, how many trials, how many at once, a seed, points
    to try first, and the strategy's own options (which the strategy checks, not this section)."""

    strategy: str = "random"
    num_samples: int | None = None  # default: 10 samples; for grid, 1 pass over the whole grid
    seed: int | None = None
    max_concurrent: int | None = None
    points_to_evaluate: tuple[Mapping[str, Any], ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # strategy-specific, checked by the strategy
    fuse: int | Literal["auto"] = 1  # configs trained together in one batched worker (1: each alone)

    def __post_init__(self) -> None:
        if self.num_samples is None:
            object.__setattr__(self, "num_samples", 1 if self.strategy == "grid" else 10)

    @classmethod
    def from_dict(cls, data: Any, path: str = "search") -> SearchSpec:
        if isinstance(data, SearchSpec):
            return data
        strategy, rest = _split_named(data, path, key="strategy", default="random")
        if not isinstance(strategy, str):
            raise ConfigError(f"{path}.strategy", f"expected a strategy name, got {strategy!r}")
        out: dict[str, Any] = {"strategy": strategy}
        if "num_samples" in rest:
            out["num_samples"] = _int(rest.pop("num_samples"), f"{path}.num_samples", 1)
        if rest.get("seed") is not None:
            out["seed"] = _int(rest.pop("seed"), f"{path}.seed", 0)
        rest.pop("seed", None)
        if rest.get("max_concurrent") is not None:
            out["max_concurrent"] = _int(rest.pop("max_concurrent"), f"{path}.max_concurrent", 1)
        rest.pop("max_concurrent", None)
        if rest.get("fuse") is not None:
            out["fuse"] = check_fuse(rest.pop("fuse"), f"{path}.fuse")
        rest.pop("fuse", None)
        points = rest.pop("points_to_evaluate", None) or ()
        if not isinstance(points, (list, tuple)) or not all(isinstance(p, Mapping) for p in points):
            raise ConfigError(f"{path}.points_to_evaluate", f"expected a list of configs (mappings), got {points!r}")
        out["points_to_evaluate"] = tuple(dict(p) for p in points)
        out["options"] = dict(rest.pop("options", None) or {}, **rest)
        return cls(**out)


def check_fuse(value: Any, path: str = "search.fuse") -> int | Literal["auto"]:
    """`search.fuse`: a whole number of configs per fused worker (>= 1), or 'auto'."""
    if value == "auto":
        return "auto"
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise ConfigError(path, f"expected a whole number >= 1 or 'auto', got {value!r}")
    if int(value) < 1:
        raise ConfigError(path, f"must be >= 1 or 'auto', got {value!r}")
    return int(value)


@dataclass(frozen=True)
class SchedulerSpec:
    """Which early-stopping scheduler ends poor trials (fifo: none), with its options inline."""

    name: str = "fifo"
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "scheduler") -> SchedulerSpec:
        if isinstance(data, SchedulerSpec):
            return data
        name, options = _split_named(data, path, default="fifo")
        if not isinstance(name, str):
            raise ConfigError(f"{path}.name", f"expected a scheduler name, got {name!r}")
        return cls(name, options)


@dataclass(frozen=True)
class MetricSpec:
    """The reported metric that ranks trials, and whether higher (`max`) or lower (`min`) is better."""

    name: str = "val_accuracy"
    mode: Mode = "max"

    @classmethod
    def from_dict(cls, data: Any, path: str = "metric") -> MetricSpec:
        if isinstance(data, MetricSpec):
            return data
        if isinstance(data, str):
            data = {"name": data}
        data = _fields_of(cls, data, path)
        name = data.get("name", "val_accuracy")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{path}.name", f"expected a metric name, got {name!r}")
        mode = data.get("mode", "min" if "loss" in name else "max")
        if mode not in ("min", "max"):
            raise ConfigError(f"{path}.mode", f"unknown mode {mode!r}; allowed: 'max', 'min'")
        return cls(name, mode)


@dataclass(frozen=True)
class ResourcesSpec:
    """What one trial reserves; Ray runs as many trials at once as the cluster's CPUs and GPUs allow
    (a GPU share below 1 packs several trials onto one GPU).

    `workers_per_trial` > 1 makes each trial N data-parallel workers (Ray Train, DDP), each holding
    `cpus_per_worker` and `gpus_per_worker`; `cpus_per_trial`/`gpus_per_trial` are then not used
    (`training/ddp_trainable.py`)."""

    cpus_per_trial: float = 1.0
    gpus_per_trial: float | Literal["auto"] = 0.0  # auto: sized from a measured trial (training/profile.py)
    workers_per_trial: int = 1
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0

    @property
    def gpus(self) -> float:
        """The GPU share as a number; `auto` counts as none until `training.profile.resolve_gpus`
        replaced it (before the sweep starts, so Ray never sees `auto`)."""
        return 0.0 if self.gpus_per_trial == "auto" else float(self.gpus_per_trial)

    @property
    def distributed(self) -> bool:
        return self.workers_per_trial > 1

    @classmethod
    def from_dict(cls, data: Any, path: str = "resources") -> ResourcesSpec:
        if isinstance(data, ResourcesSpec):
            return data
        data = _fields_of(cls, data, path)
        out: dict[str, Any] = {}
        if "cpus_per_trial" in data:
            out["cpus_per_trial"] = _float(data["cpus_per_trial"], f"{path}.cpus_per_trial", 0.0, low_open=True)
        for key in ("gpus_per_trial", "gpus_per_worker"):
            if key == "gpus_per_trial" and data.get(key) == "auto":
                out[key] = "auto"
            elif key in data:
                out[key] = _gpu_share(data[key], f"{path}.{key}")
        if "cpus_per_worker" in data:
            out["cpus_per_worker"] = _float(data["cpus_per_worker"], f"{path}.cpus_per_worker", 0.0, low_open=True)
        if "workers_per_trial" in data:
            out["workers_per_trial"] = _int(data["workers_per_trial"], f"{path}.workers_per_trial", 1)
        _one_kind_of_trial(out, path)
        return cls(**out)


def _gpu_share(value: Any, path: str) -> float:
    gpus = _float(value, path, 0.0)
    if gpus > 1 and gpus != math.floor(gpus):
        raise ConfigError(path, f"a share above 1 must be a whole number of GPUs, got {gpus}; "
                          "use a fraction below 1 to share one GPU")
    return gpus


def _one_kind_of_trial(fields: dict[str, Any], path: str) -> None:
    """Per-trial and per-worker sizes describe two different trials: a spec gives one kind."""
    distributed = fields.get("workers_per_trial", 1) > 1
    wrong = ("cpus_per_trial", "gpus_per_trial") if distributed else ("cpus_per_worker", "gpus_per_worker")
    for key in wrong:
        if key in fields:
            raise ConfigError(f"{path}.{key}", "is for single-process trials; with workers_per_trial > 1 set "
                              "cpus_per_worker/gpus_per_worker instead" if distributed else
                              "applies only with workers_per_trial > 1; for one process use "
                              f"{key.replace('worker', 'trial')}")


@dataclass(frozen=True)
class RunSpec:
    """How the sweep survives faults: retries from checkpoints and a per-trial time limit."""

    max_failures: int = 2
    trial_timeout: float | None = None  # seconds

    @classmethod
    def from_dict(cls, data: Any, path: str = "run") -> RunSpec:
        if isinstance(data, RunSpec):
            return data
        data = _fields_of(cls, data, path)
        out: dict[str, Any] = {}
        if "max_failures" in data:
            out["max_failures"] = _int(data["max_failures"], f"{path}.max_failures", 0)
        if data.get("trial_timeout") is not None:
            out["trial_timeout"] = _float(data["trial_timeout"], f"{path}.trial_timeout", 0.0, low_open=True)
        return cls(**out)


__all__ = ["BUILTIN_METRICS", "COST_METRICS", "LR_SCALING", "TRAIN_TUNABLE", "CVSpec", "DatasetSpec", "MetricSpec",
           "Mode", "ModelSpec", "Named", "ResourcesSpec", "RunSpec", "SchedulerSpec", "SearchSpec", "SplitSpec",
           "TaskSpec", "TrainSpec", "check_fuse", "check_train_value"]

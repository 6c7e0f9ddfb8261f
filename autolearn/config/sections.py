"""The sections of an experiment spec, each a frozen dataclass that validates its own fields.

Each `from_dict` accepts the YAML form (or an instance) and raises `ConfigError` naming the field
path; checks that need two sections at once live in `validation.py`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from autolearn.config.space import as_number
from autolearn.errors import ConfigError, allowed

Mode = Literal["min", "max"]
BUILTIN_METRICS = ("val_accuracy", "val_loss", "train_loss")


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(path, f"expected a mapping, got {value!r}")
    return {str(k): v for k, v in value.items()}


def _no_unknown(data: Mapping[str, Any], known: set[str], path: str) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}.{key}" if path else key, f"unknown key; allowed: {allowed(known)}")


def _int(value: Any, path: str, low: int | None = None) -> int:
    out = int(as_number(value, path, integer=True))
    if low is not None and out < low:
        raise ConfigError(path, f"must be >= {low}, got {out}")
    return out


def _float(value: Any, path: str, low: float | None = None, high: float | None = None,
           low_open: bool = False) -> float:
    out = float(as_number(value, path))
    if low is not None and (out < low or (low_open and out == low)):
        raise ConfigError(path, f"must be {'>' if low_open else '>='} {low}, got {out}")
    if high is not None and out > high:
        raise ConfigError(path, f"must be <= {high}, got {out}")
    return out


def _name(value: Any, path: str) -> Any:
    if callable(value) or (isinstance(value, str) and value):
        return value
    raise ConfigError(path, f"expected a name, an import path or a callable, got {value!r}")


def _split_named(data: Any, path: str, key: str = "name", default: Any = None) -> tuple[Any, dict[str, Any]]:
    """`{name: x, a: 1}` → (x, {a: 1}): a named plugin with its options inline."""
    if isinstance(data, str) or callable(data):
        return data, {}
    data = _mapping(data, path)
    name = data.pop(key, default)
    if name is None:
        raise ConfigError(f"{path}.{key}", "is required")
    return _name(name, f"{path}.{key}"), data


@dataclass(frozen=True)
class DatasetSpec:
    name: Any = "synthetic_classification"  # registry name, import path, or callable → (X, y)
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "task.dataset") -> DatasetSpec:
        if isinstance(data, DatasetSpec):
            return data
        name, params = _split_named(data, path)
        return cls(name, params)

    def to_dict(self) -> dict[str, Any]:
        return {"name": _export_name(self.name), **self.params}


@dataclass(frozen=True)
class SplitSpec:
    """`validation` is a share of what remains after the test split is taken out."""

    test: float = 0.2
    validation: float = 0.2
    random_state: int | None = 42

    @classmethod
    def from_dict(cls, data: Any, path: str = "task.split") -> SplitSpec:
        if isinstance(data, SplitSpec):
            return data
        data = _mapping(data, path)
        _no_unknown(data, {"test", "validation", "random_state"}, path)
        out = {}
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
class TaskSpec:
    """Either a dataset for the built-in loop, or a user `trainable` that reports its own metrics."""

    dataset: DatasetSpec | None = field(default_factory=DatasetSpec)
    split: SplitSpec = field(default_factory=SplitSpec)
    trainable: Any = None  # import path or callable fn(config) for user training code
    params: Mapping[str, Any] = field(default_factory=dict)  # fixed config values for `trainable`

    @classmethod
    def from_dict(cls, data: Any, path: str = "task") -> TaskSpec:
        if isinstance(data, TaskSpec):
            return data
        data = _mapping(data, path)
        _no_unknown(data, {"dataset", "split", "trainable", "params"}, path)
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
        return cls(dataset=dataset, split=SplitSpec.from_dict(data.get("split"), f"{path}.split"),
                   trainable=trainable, params=_mapping(data.get("params"), f"{path}.params"))


@dataclass(frozen=True)
class ModelSpec:
    name: Any = "mlp"  # registry name, import path, or callable(input_shape, n_outputs, **params)
    params: Mapping[str, Any] = field(default_factory=lambda: {"hidden_units": 64, "depth": 2})

    @classmethod
    def from_dict(cls, data: Any, path: str = "model") -> ModelSpec:
        if isinstance(data, ModelSpec):
            return data
        name, params = _split_named(data, path, default="mlp")
        return cls(name, params)

    def to_dict(self) -> dict[str, Any]:
        return {"name": _export_name(self.name), **self.params}


TRAIN_TUNABLE = ("optimizer", "lr", "batch_size", "weight_decay", "momentum", "lr_schedule",
                 "lr_step_size", "lr_gamma", "lr_patience", "lr_min", "seed")


@dataclass(frozen=True)
class TrainSpec:
    """Settings of the built-in training loop; every field but the budget ones can be searched."""

    epochs: int = 10
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 32
    weight_decay: float = 0.0
    momentum: float = 0.9
    lr_schedule: str = "constant"
    lr_step_size: int = 5      # step: epochs between decays
    lr_gamma: float = 0.5      # step/exponential/plateau: decay factor
    lr_patience: int = 2       # plateau: epochs without improvement before a decay
    lr_min: float = 0.0        # cosine: the floor of the annealed rate
    seed: int | None = 0       # torch seed of each trial, so one config gives one result
    checkpoint_every: int = 1  # epochs between checkpoints (the last epoch always checkpoints)
    device: Literal["auto", "cpu", "cuda"] = "auto"

    @classmethod
    def from_dict(cls, data: Any, path: str = "train") -> TrainSpec:
        if isinstance(data, TrainSpec):
            data = {f.name: getattr(data, f.name) for f in fields(data)}
        data = _mapping(data, path)
        _no_unknown(data, {f.name for f in fields(cls)}, path)
        return cls(**{k: check_train_value(k, v, f"{path}.{k}") for k, v in data.items()})


def check_train_value(key: str, value: Any, path: str) -> Any:
    """Validate one training setting's type and range; used for the base value and every value a
    space can give. Which optimizer and schedule names exist is `training.checks`' to say."""
    if key in ("optimizer", "lr_schedule"):  # the names are the training layer's to check
        if not isinstance(value, str) or not value:
            raise ConfigError(path, f"expected a name, got {value!r}")
        return value
    if key == "device":
        if value not in ("auto", "cpu", "cuda"):
            raise ConfigError(path, f"unknown device {value!r}; allowed: 'auto', 'cpu', 'cuda'")
        return value
    if key == "seed":
        return None if value is None else _int(value, path, 0)
    if key in ("epochs", "batch_size", "lr_step_size", "checkpoint_every"):
        return _int(value, path, 1)
    if key == "lr_patience":
        return _int(value, path, 0)
    if key == "lr":
        return _float(value, path, 0.0, low_open=True)
    if key in ("weight_decay", "lr_min"):
        return _float(value, path, 0.0)
    if key == "momentum":
        return _float(value, path, 0.0, 1.0)
    if key == "lr_gamma":
        return _float(value, path, 0.0, 1.0, low_open=True)
    raise ConfigError(path, f"unknown key; allowed: {allowed(f.name for f in fields(TrainSpec))}")


@dataclass(frozen=True)
class SearchSpec:
    strategy: str = "random"
    num_samples: int | None = None  # default: 10 samples; for grid, 1 pass over the whole grid
    seed: int | None = None
    max_concurrent: int | None = None
    points_to_evaluate: tuple[Mapping[str, Any], ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # strategy-specific, checked by the strategy

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
        points = rest.pop("points_to_evaluate", None) or ()
        if not isinstance(points, (list, tuple)) or not all(isinstance(p, Mapping) for p in points):
            raise ConfigError(f"{path}.points_to_evaluate", f"expected a list of configs (mappings), got {points!r}")
        out["points_to_evaluate"] = tuple(dict(p) for p in points)
        out["options"] = dict(rest.pop("options", None) or {}, **rest)
        return cls(**out)


@dataclass(frozen=True)
class SchedulerSpec:
    name: str = "fifo"
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "scheduler") -> SchedulerSpec:
        if isinstance(data, SchedulerSpec):
            return data
        name, options = _split_named(data, path, default="fifo")
        return cls(name, options)


@dataclass(frozen=True)
class MetricSpec:
    name: str = "val_accuracy"
    mode: Mode = "max"

    @classmethod
    def from_dict(cls, data: Any, path: str = "metric") -> MetricSpec:
        if isinstance(data, MetricSpec):
            return data
        if isinstance(data, str):
            data = {"name": data}
        data = _mapping(data, path)
        _no_unknown(data, {"name", "mode"}, path)
        name = data.get("name", "val_accuracy")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{path}.name", f"expected a metric name, got {name!r}")
        mode = data.get("mode", "min" if "loss" in name else "max")
        if mode not in ("min", "max"):
            raise ConfigError(f"{path}.mode", f"unknown mode {mode!r}; allowed: 'max', 'min'")
        return cls(name, mode)


@dataclass(frozen=True)
class ResourcesSpec:
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0

    @classmethod
    def from_dict(cls, data: Any, path: str = "resources") -> ResourcesSpec:
        if isinstance(data, ResourcesSpec):
            return data
        data = _mapping(data, path)
        _no_unknown(data, {"cpus_per_trial", "gpus_per_trial"}, path)
        out = {}
        if "cpus_per_trial" in data:
            out["cpus_per_trial"] = _float(data["cpus_per_trial"], f"{path}.cpus_per_trial", 0.0, low_open=True)
        if "gpus_per_trial" in data:
            gpus = _float(data["gpus_per_trial"], f"{path}.gpus_per_trial", 0.0)
            if gpus > 1 and gpus != math.floor(gpus):
                raise ConfigError(f"{path}.gpus_per_trial", f"a share above 1 must be a whole number "
                                  f"of GPUs, got {gpus}; use a fraction below 1 to share one GPU")
            out["gpus_per_trial"] = gpus
        return cls(**out)


@dataclass(frozen=True)
class RunSpec:
    """How the sweep survives faults: retries from checkpoints and a per-trial time limit."""

    max_failures: int = 2
    trial_timeout: float | None = None  # seconds

    @classmethod
    def from_dict(cls, data: Any, path: str = "run") -> RunSpec:
        if isinstance(data, RunSpec):
            return data
        data = _mapping(data, path)
        _no_unknown(data, {"max_failures", "trial_timeout"}, path)
        out: dict[str, Any] = {}
        if "max_failures" in data:
            out["max_failures"] = _int(data["max_failures"], f"{path}.max_failures", 0)
        if data.get("trial_timeout") is not None:
            out["trial_timeout"] = _float(data["trial_timeout"], f"{path}.trial_timeout", 0.0, low_open=True)
        return cls(**out)


def _export_name(name: Any) -> Any:
    if callable(name):
        return f"{getattr(name, '__module__', '?')}:{getattr(name, '__qualname__', repr(name))}"
    return name

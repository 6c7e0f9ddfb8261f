"""The `train` section: the built-in loop's settings, each checked by its own rule.

`check_train_value` is also what a search space's values go through (`training.checks`), so a
range like `lr: {low: 0}` fails the same way as `train.lr: 0`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal

from autolearn.config.fields import _fields_of, _float, _int
from autolearn.errors import ConfigError, allowed

TRAIN_TUNABLE = ("optimizer", "lr", "batch_size", "weight_decay", "momentum", "lr_schedule",
                 "lr_step_size", "lr_gamma", "lr_patience", "lr_min", "lr_warmup_epochs", "lr_warmup_fraction",
                 "seed")
LR_SCALING = ("none", "linear", "sqrt")


@dataclass(frozen=True)
class TrainSpec:
    """Settings of the built-in training loop; every field but the budget ones can be searched."""

    epochs: int = 10
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int | Literal["auto"] = 32  # auto: the batch-size finder picks it before the sweep
    weight_decay: float = 0.0
    momentum: float = 0.9
    lr_schedule: str = "constant"
    lr_step_size: int = 5      # step: epochs between decays
    lr_gamma: float = 0.5      # step/exponential/plateau: decay factor
    lr_patience: int = 2       # plateau: epochs without improvement before a decay
    lr_min: float = 0.0        # cosine, warmup_cosine: the floor of the annealed rate
    lr_warmup_epochs: int = 1  # warmup_cosine, one_cycle: epochs the rate rises before it anneals
    lr_warmup_fraction: float | None = None  # the same as a share of the epochs (wins when set)
    batch_memory_mb: float | None = None  # batch_size auto on a CPU: memory one training step may use
    lr_scaling: Literal["none", "linear", "sqrt"] = "none"  # batch_size auto: scale lr with the batch
    lr_base_batch: int = 32    # the batch the spec's lr was chosen for (lr_scaling's reference)
    seed: int | None = 0       # torch seed of each trial, so one config gives one result
    checkpoint_every: int | Literal["auto"] = "auto"  # epochs between checkpoints, or auto (training/cadence.py:
    #                        at most every 10 s of training); the last epoch always checkpoints. auto by default:
    #                        a checkpoint costs Ray Tune more than a short epoch (docs/BENCHMARKS.md, trial cost)
    device: Literal["auto", "cpu", "cuda"] = "auto"

    @classmethod
    def from_dict(cls, data: Any, path: str = "train") -> TrainSpec:
        if isinstance(data, TrainSpec):
            data = {f.name: getattr(data, f.name) for f in fields(data)}
        data = _fields_of(cls, data, path)
        out = cls(**{k: check_train_value(k, v, f"{path}.{k}") for k, v in data.items()})
        if out.batch_size != "auto":
            for key in ("batch_memory_mb", "lr_scaling"):
                if key in data and getattr(out, key) not in (None, "none"):
                    raise ConfigError(f"{path}.{key}", "is used only with batch_size: auto")
        return out


def _name(value: Any, path: str) -> Any:
    if not isinstance(value, str) or not value:  # which names exist is the training layer's to say
        raise ConfigError(path, f"expected a name, got {value!r}")
    return value


def _one_of(what: str, options: tuple[str, ...]) -> Callable[[Any, str], Any]:
    def check(value: Any, path: str) -> Any:
        if value not in options:
            raise ConfigError(path, f"unknown {what} {value!r}; allowed: {allowed(options)}")
        return value
    return check


def _optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda value, path: None if value is None else check(value, path)


def _every(value: Any, path: str) -> Any:
    if value == "auto":
        return value
    try:
        return _int(value, path, 1)
    except ConfigError:
        raise ConfigError(path, f"expected a whole number of epochs >= 1 or 'auto', got {value!r}") from None


_at_least_1: Callable[[Any, str], Any] = lambda value, path: _int(value, path, 1)
_at_least_0: Callable[[Any, str], Any] = lambda value, path: _int(value, path, 0)
_non_negative: Callable[[Any, str], Any] = lambda value, path: _float(value, path, 0.0)

# One rule per setting: the type, the range, or the names the config layer can judge.
TRAIN_RULES: dict[str, Callable[[Any, str], Any]] = {
    "optimizer": _name, "lr_schedule": _name,
    "device": _one_of("device", ("auto", "cpu", "cuda")),
    "lr_scaling": _one_of("lr scaling", LR_SCALING),
    "seed": _optional(_at_least_0),
    "batch_size": lambda value, path: value if value == "auto" else _int(value, path, 1),
    "checkpoint_every": _every,
    "epochs": _at_least_1, "lr_step_size": _at_least_1, "lr_base_batch": _at_least_1,
    "lr_patience": _at_least_0, "lr_warmup_epochs": _at_least_0,
    "lr_warmup_fraction": _optional(lambda value, path: _float(value, path, 0.0, 0.99)),
    "batch_memory_mb": _optional(lambda value, path: _float(value, path, 0.0, low_open=True)),
    "lr": lambda value, path: _float(value, path, 0.0, low_open=True),
    "weight_decay": _non_negative, "lr_min": _non_negative,
    "momentum": lambda value, path: _float(value, path, 0.0, 1.0),
    "lr_gamma": lambda value, path: _float(value, path, 0.0, 1.0, low_open=True),
}


def check_train_value(key: str, value: Any, path: str) -> Any:
    """Validate one training setting's type and range; used for the base value and every value a
    space can give. Which optimizer and schedule names exist is `training.checks`' to say."""
    rule = TRAIN_RULES.get(key)
    if rule is None:
        raise ConfigError(path, f"unknown key; allowed: {allowed(f.name for f in fields(TrainSpec))}")
    return rule(value, path)

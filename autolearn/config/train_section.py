"""The `train` section: the built-in loop's settings, each checked by its own rule.

`check_train_value` is also what a search space's values go through (`training.checks`), so a
range like `lr: {low: 0}` fails the same way as `train.lr: 0`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from autolearn.config.fields import _fields_of, _float, _int
from autolearn.errors import ConfigError, allowed

TRAIN_TUNABLE = ("optimizer", "lr", "batch_size", "weight_decay", "momentum", "lr_schedule",
                 "lr_step_size", "lr_gamma", "lr_patience", "lr_min", "lr_warmup_epochs", "lr_warmup_fraction",
                 "seed", "precision", "compile")
LR_SCALING = ("none", "linear", "sqrt")
PRECISIONS = ("32", "bf16", "16")  # float32; bfloat16 autocast; float16 autocast + grad scaler (CUDA only)
LOADER_OPTIONS = ("num_workers", "pin_memory", "persistent_workers", "prefetch_factor")


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
    precision: Literal["32", "bf16", "16"] = "32"  # training/precision.py
    compile: bool = False      # torch.compile the model's training forward
    loader: Mapping[str, Any] | None = None  # torch Dataset data sets: DataLoader options (torch_data.py)

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

def _precision(value: Any, path: str) -> str:
    """`32`, `16` (YAML reads them as numbers) or `bf16`; kept as the strings of PRECISIONS."""
    text = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    if text not in PRECISIONS:
        raise ConfigError(path, f"unknown precision {value!r}; allowed: 32, bf16, 16")
    return text


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, f"expected true or false, got {value!r}")
    return value


def _loader(value: Any, path: str) -> dict[str, Any] | None:
    """DataLoader options, checked here so torch's own errors (raised deep inside a trial) never come."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(path, f"expected a mapping of {allowed(LOADER_OPTIONS)}, got {value!r}")
    out = {str(k): v for k, v in value.items()}
    for key in out:
        if key not in LOADER_OPTIONS:
            raise ConfigError(f"{path}.{key}", f"unknown key; allowed: {allowed(LOADER_OPTIONS)}")
    if "num_workers" in out:
        out["num_workers"] = _int(out["num_workers"], f"{path}.num_workers", 0)
    for key in ("pin_memory", "persistent_workers"):
        if key in out:
            out[key] = _bool(out[key], f"{path}.{key}")
    if out.get("prefetch_factor") is not None:
        out["prefetch_factor"] = _int(out["prefetch_factor"], f"{path}.prefetch_factor", 1)
    workers = out.get("num_workers", 0)
    for key in ("persistent_workers", "prefetch_factor"):
        if out.get(key) and not workers:
            raise ConfigError(f"{path}.{key}", f"needs num_workers >= 1 (DataLoader worker processes), "
                              f"got num_workers={workers}")
    return out


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
    "precision": _precision, "compile": _bool, "loader": _loader,
}


def check_train_value(key: str, value: Any, path: str) -> Any:
    """Validate one training setting's type and range; used for the base value and every value a
    space can give. Which optimizer and schedule names exist is `training.checks`' to say."""
    rule = TRAIN_RULES.get(key)
    if rule is None:
        raise ConfigError(path, f"unknown key; allowed: {allowed(f.name for f in fields(TrainSpec))}")
    return rule(value, path)

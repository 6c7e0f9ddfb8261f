"""The experiment spec: what to train, which hyperparameters to search, how, and where.

One `Experiment` comes from a YAML file (`load_spec`) or is built in Python, with dicts or the
section dataclasses (`sections.py`), and callables where YAML has import paths. Everything is
validated in `__post_init__`, before Ray starts, so a typo costs a second, not a cluster hour.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from autolearn.config.sections import (
    BUILTIN_METRICS,
    TRAIN_TUNABLE,
    DatasetSpec,
    MetricSpec,
    Mode,
    ModelSpec,
    ResourcesSpec,
    RunSpec,
    SchedulerSpec,
    SearchSpec,
    SplitSpec,
    TaskSpec,
    TrainSpec,
    _export_name,
    _no_unknown,
    check_train_value,
)
from autolearn.config.space import SearchSpace
from autolearn.config.validation import check_experiment
from autolearn.errors import ConfigError

__all__ = ["BUILTIN_METRICS", "TRAIN_TUNABLE", "DatasetSpec", "Experiment", "MetricSpec", "Mode", "ModelSpec",
           "ResourcesSpec", "RunSpec", "SchedulerSpec", "SearchSpec", "SplitSpec", "TaskSpec", "TrainSpec",
           "check_train_value", "load_spec", "read_spec"]

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SECTIONS: dict[str, Callable[..., Any]] = {
    "task": TaskSpec.from_dict, "model": ModelSpec.from_dict, "train": TrainSpec.from_dict,
    "space": SearchSpace.from_dict, "search": SearchSpec.from_dict,
    "scheduler": SchedulerSpec.from_dict, "metric": MetricSpec.from_dict,
    "resources": ResourcesSpec.from_dict, "run": RunSpec.from_dict,
}


@dataclass(frozen=True)
class Experiment:
    """A whole sweep. Sections may be given as dataclasses or plain dicts; both are validated."""

    name: str = "experiment"
    task: Any = field(default_factory=TaskSpec)
    model: Any = None
    train: Any = None
    space: Any = field(default_factory=SearchSpace)
    search: Any = field(default_factory=SearchSpec)
    scheduler: Any = field(default_factory=SchedulerSpec)
    metric: Any = None
    resources: Any = field(default_factory=ResourcesSpec)
    storage: str = "./runs"
    run: Any = field(default_factory=RunSpec)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ConfigError("name", f"{self.name!r} is not a usable folder name; use letters, digits, "
                              "'-', '_' and '.' (starting with a letter or digit)")
        if not isinstance(self.storage, (str, Path)) or not str(self.storage):
            raise ConfigError("storage", f"expected a path or URI, got {self.storage!r}")
        object.__setattr__(self, "storage", str(self.storage))
        _no_secret_in_uri(self.storage)
        task = _SECTIONS["task"](self.task)
        object.__setattr__(self, "task", task)
        custom = task.trainable is not None
        if custom:
            for section in ("model", "train"):
                if getattr(self, section) is not None:
                    raise ConfigError(section, f"{section} is for the built-in training loop; with "
                                      "task.trainable your function trains (put fixed values in task.params)")
        else:
            object.__setattr__(self, "model", _SECTIONS["model"](self.model))
            object.__setattr__(self, "train", _SECTIONS["train"](self.train))
        if self.metric is None and custom:
            raise ConfigError("metric", "a user trainable needs metric: {name: ..., mode: min|max} "
                              "naming one of the metrics it reports")
        for name in ("space", "search", "scheduler", "metric", "resources", "run"):
            object.__setattr__(self, name, _SECTIONS[name](getattr(self, name)))
        check_experiment(self)

    @property
    def uses_builtin_trainable(self) -> bool:
        return self.task.trainable is None

    @property
    def max_epochs(self) -> int | None:
        """The training budget of one trial (ASHA's max_t); None when a user trainable decides."""
        if self.uses_builtin_trainable:
            return self.train.epochs
        max_t = self.scheduler.options.get("max_t")
        return int(max_t) if max_t is not None else None

    def with_overrides(self, **changes: Any) -> Experiment:
        """A copy with some sections replaced (and the whole re-validated)."""
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Any, source: str = "spec") -> Experiment:
        if not isinstance(data, Mapping):
            raise ConfigError("", f"{source}: expected a mapping of sections at the top level, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        _no_unknown(data, known, "")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (callables shown by their import path)."""
        out: dict[str, Any] = {"name": self.name}
        task: dict[str, Any] = {}
        if self.task.trainable is not None:
            task["trainable"] = _export_name(self.task.trainable)
            if self.task.params:
                task["params"] = dict(self.task.params)
        else:
            task["dataset"] = self.task.dataset.to_dict()
            task["split"] = {f.name: getattr(self.task.split, f.name) for f in fields(SplitSpec)}
        out["task"] = task
        if self.model is not None:
            out["model"] = self.model.to_dict()
            out["train"] = {f.name: getattr(self.train, f.name) for f in fields(TrainSpec)}
        out["space"] = self.space.to_dict()
        search = {"strategy": self.search.strategy, "num_samples": self.search.num_samples,
                  "seed": self.search.seed, "max_concurrent": self.search.max_concurrent, **self.search.options}
        if self.search.points_to_evaluate:
            search["points_to_evaluate"] = [dict(p) for p in self.search.points_to_evaluate]
        out["search"] = search
        out["scheduler"] = {"name": self.scheduler.name, **self.scheduler.options}
        out["metric"] = {"name": self.metric.name, "mode": self.metric.mode}
        out["resources"] = {"cpus_per_trial": self.resources.cpus_per_trial,
                            "gpus_per_trial": self.resources.gpus_per_trial}
        out["storage"] = self.storage
        out["run"] = {"max_failures": self.run.max_failures, "trial_timeout": self.run.trial_timeout}
        return out


def _no_secret_in_uri(storage: str) -> None:
    """A password in the storage URI would be copied into spec.yaml, summary.json and the logs."""
    from urllib.parse import urlsplit

    if "://" in storage and urlsplit(storage).password is not None:
        raise ConfigError("storage", "the URI holds a password (user:password@...); it would be written "
                          "to spec.yaml, summary.json and the logs: give credentials through the "
                          "environment or the cloud's credentials file instead")


def read_spec(path: str | Path) -> dict[str, Any]:
    """Read a YAML spec into a dict (safely: `yaml.safe_load`), before any validation."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("spec", f"no spec file at {str(path)!r}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError("spec", f"{str(path)!r} is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    if not isinstance(data, dict):
        raise ConfigError("spec", f"{str(path)!r} must hold a mapping of sections (name, task, model, ...)")
    return data


def load_spec(path: str | Path) -> Experiment:
    """Read and validate a YAML spec."""
    return Experiment.from_dict(read_spec(path), source=str(path))

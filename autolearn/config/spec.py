"""The experiment spec: what to train, which hyperparameters to search, how, and where.

One `Experiment` comes from a YAML file (`load_spec`) or is built in Python, with dicts or the
section dataclasses (`sections.py`), and callables where YAML has import paths. Everything is
validated when the `Experiment` is built, before Ray starts, so a typo costs a second, not a cluster hour.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from autolearn.config.fields import _export_name, _no_unknown
from autolearn.config.limits import load_yaml
from autolearn.config.objectives import ConstraintSpec, read_constraints, read_objectives
from autolearn.config.sections import (
    DatasetSpec,
    MetricSpec,
    ModelSpec,
    Named,
    ResourcesSpec,
    RunSpec,
    SchedulerSpec,
    SearchSpec,
    SplitSpec,
    TaskSpec,
    TrainSpec,
)
from autolearn.config.space import SearchSpace
from autolearn.config.validation import check_experiment
from autolearn.errors import ConfigError
from autolearn.values import is_uri

__all__ = ["Experiment", "load_spec", "read_spec"]  # the sections: `config.sections`

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, init=False)
class Experiment:
    """A whole sweep: what to train, which hyperparameters to search, how, and where.

    Each section may be given as its dataclass, as the plain dict YAML gives (or a bare name where
    YAML allows one), or left out for its default; after construction every field holds its
    section's dataclass, validated, so code that reads an `Experiment` never sees a dict.
    `model` and `train` are None when `task.trainable` is a user's own training function.
    `metric` may be a list (several objectives, `config/objectives.py`): `metric` is then the
    first, primary one, and `objectives` holds them all; `constraints` bound reported metrics.
    """

    name: str
    task: TaskSpec
    model: ModelSpec | None
    train: TrainSpec | None
    space: SearchSpace
    search: SearchSpec
    scheduler: SchedulerSpec
    metric: MetricSpec
    resources: ResourcesSpec
    storage: str
    run: RunSpec
    objectives: tuple[MetricSpec, ...]
    constraints: tuple[ConstraintSpec, ...]

    def __init__(self, name: str = "experiment", task: TaskSpec | Mapping[str, Any] | None = None,
                 model: ModelSpec | Mapping[str, Any] | Named | None = None,
                 train: TrainSpec | Mapping[str, Any] | None = None,
                 space: SearchSpace | Mapping[str, Any] | None = None,
                 search: SearchSpec | Mapping[str, Any] | str | None = None,
                 scheduler: SchedulerSpec | Mapping[str, Any] | str | None = None,
                 metric: MetricSpec | Mapping[str, Any] | str | Sequence[Any] | None = None,
                 resources: ResourcesSpec | Mapping[str, Any] | None = None,
                 storage: str | os.PathLike[str] = "./runs",
                 run: RunSpec | Mapping[str, Any] | None = None,
                 objectives: Sequence[MetricSpec] | None = None,
                 constraints: Sequence[ConstraintSpec | Mapping[str, Any]] | None = None) -> None:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError("name", f"{name!r} is not a usable folder name; use letters, digits, "
                              "'-', '_' and '.' (starting with a letter or digit)")
        if not isinstance(storage, (str, os.PathLike)) or not str(storage):
            raise ConfigError("storage", f"expected a path or URI, got {storage!r}")
        _no_secret_in_uri(str(storage))
        task_spec = TaskSpec.from_dict(task)
        custom = task_spec.trainable is not None
        if custom:
            for section, given in (("model", model), ("train", train)):
                if given is not None:
                    raise ConfigError(section, f"{section} is for the built-in training loop; with "
                                      "task.trainable your function trains (put fixed values in task.params)")
            if metric is None:
                raise ConfigError("metric", "a user trainable needs metric: {name: ..., mode: min|max} "
                                  "naming one of the metrics it reports")
        metrics = _objectives(metric, objectives)
        values = {"name": name, "task": task_spec, "storage": str(storage),
                  "model": None if custom else ModelSpec.from_dict(model),
                  "train": None if custom else TrainSpec.from_dict(train),
                  "space": SearchSpace.from_dict(space), "search": SearchSpec.from_dict(search),
                  "scheduler": SchedulerSpec.from_dict(scheduler), "metric": metrics[0],
                  "resources": ResourcesSpec.from_dict(resources), "run": RunSpec.from_dict(run),
                  "objectives": metrics, "constraints": read_constraints(constraints)}
        for key, value in values.items():
            object.__setattr__(self, key, value)
        check_experiment(self)

    @property
    def uses_builtin_trainable(self) -> bool:
        """True when autolearn's own loop trains (no `task.trainable`): `model` and `train` are set."""
        return self.task.trainable is None

    def builtin_sections(self) -> tuple[DatasetSpec, ModelSpec, TrainSpec]:
        """`task.dataset`, `model` and `train`, typed as set: the built-in loop's three sections.

        Raises for a spec with a user trainable (they are None there), so callers need no casts.
        """
        dataset, model, train = self.task.dataset, self.model, self.train
        if dataset is None or model is None or train is None:
            raise ConfigError("task.trainable", "this spec trains with a user trainable; the built-in "
                              "loop's dataset, model and train sections are not set")
        return dataset, model, train

    @property
    def max_epochs(self) -> int | None:
        """The training budget of one trial (ASHA's max_t); None when a user trainable decides."""
        if self.train is not None:
            return self.train.epochs
        max_t = self.scheduler.options.get("max_t")
        return int(max_t) if max_t is not None else None

    def with_overrides(self, **changes: Any) -> Experiment:
        """A copy with some sections replaced (and the whole re-validated)."""
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Any, source: str = "spec") -> Experiment:
        """An Experiment from the YAML form (a mapping of sections); unknown top-level keys raise."""
        if not isinstance(data, Mapping):
            raise ConfigError("", f"{source}: expected a mapping of sections at the top level, "
                              f"got {type(data).__name__}")
        known = {f.name for f in fields(cls)} - {"objectives"}  # YAML lists them under `metric`
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
        elif self.task.dataset is not None:
            task["dataset"] = self.task.dataset.to_dict()
            task["split"] = {f.name: getattr(self.task.split, f.name) for f in fields(SplitSpec)}
            if self.task.cv is not None:
                task["cv"] = {"folds": self.task.cv.folds, "stratified": self.task.cv.stratified}
            if self.task.repeats != 1:
                task["repeats"] = self.task.repeats
        out["task"] = task
        if self.model is not None and self.train is not None:
            out["model"] = self.model.to_dict()
            out["train"] = {f.name: getattr(self.train, f.name) for f in fields(TrainSpec)}
        out["space"] = self.space.to_dict()
        search = {"strategy": self.search.strategy, "num_samples": self.search.num_samples,
                  "seed": self.search.seed, "max_concurrent": self.search.max_concurrent, **self.search.options}
        if self.search.fuse != 1:
            search["fuse"] = self.search.fuse
        if self.search.points_to_evaluate:
            search["points_to_evaluate"] = [dict(p) for p in self.search.points_to_evaluate]
        out["search"] = search
        out["scheduler"] = {"name": self.scheduler.name, **self.scheduler.options}
        metrics = [{"name": m.name, "mode": m.mode} for m in self.objectives]
        out["metric"] = metrics if len(metrics) > 1 else metrics[0]
        if self.constraints:
            out["constraints"] = [c.to_dict() for c in self.constraints]
        out["resources"] = {"cpus_per_trial": self.resources.cpus_per_trial,
                            "gpus_per_trial": self.resources.gpus_per_trial}
        if self.resources.distributed:
            out["resources"] = {"workers_per_trial": self.resources.workers_per_trial,
                                "cpus_per_worker": self.resources.cpus_per_worker,
                                "gpus_per_worker": self.resources.gpus_per_worker}
        out["storage"] = self.storage
        out["run"] = {"max_failures": self.run.max_failures, "trial_timeout": self.run.trial_timeout}
        return out


def _objectives(metric: Any, objectives: Sequence[MetricSpec] | None) -> tuple[MetricSpec, ...]:
    """All objectives, the primary first. `objectives` comes back from `dataclasses.replace`: it
    stands while its first is still `metric`; a replaced `metric` alone means one objective again."""
    if objectives and isinstance(metric, MetricSpec) and tuple(objectives)[0] == metric:
        return read_objectives(list(objectives))
    return read_objectives(metric)


def _no_secret_in_uri(storage: str) -> None:
    """A password in the storage URI would be copied into spec.yaml, summary.json and the logs."""
    from urllib.parse import urlsplit

    if is_uri(storage) and urlsplit(storage).password is not None:
        raise ConfigError("storage", "the URI holds a password (user:password@...); it would be written "
                          "to spec.yaml, summary.json and the logs: give credentials through the "
                          "environment or the cloud's credentials file instead")


def read_spec(path: str | Path) -> dict[str, Any]:
    """Read a YAML spec into a dict (safely: `yaml.safe_load`), before any validation."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("spec", f"no spec file at {str(path)!r}")
    try:
        data = load_yaml(path.read_text(), str(path))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError("spec", f"{str(path)!r} is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    if not isinstance(data, dict):
        raise ConfigError("spec", f"{str(path)!r} must hold a mapping of sections (name, task, model, ...)")
    return data


def load_spec(path: str | Path) -> Experiment:
    """Read and validate a YAML spec: the file form of an `Experiment`, checked in full (each error
    naming its field) before anything starts."""
    return Experiment.from_dict(read_spec(path), source=str(path))

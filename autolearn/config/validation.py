"""Cross-section checks of an `Experiment`: what no single section can judge on its own.

Most of these checks need a component's own knowledge: which datasets, models, optimizers,
strategies and schedulers exist, and which options each takes. That knowledge lives in the
layer that owns the component (`training`, `search`), above `config`; so those layers register
their checks here (`register_check`) instead of `config` importing upwards. `autolearn/__init__`
imports both layers, and Python runs a package's `__init__` before any of its submodules, so every
`Experiment`, however it is built, is checked in full before anything runs.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from autolearn.config.plugins import import_object

if TYPE_CHECKING:
    from autolearn.config.spec import Experiment

ExperimentCheck = Callable[["Experiment"], None]
_CHECKS: dict[str, ExperimentCheck] = {}


def register_check(name: str, check: ExperimentCheck) -> None:
    """Add (or replace, by name) a check every `Experiment` runs when it is built."""
    _CHECKS[name] = check


def registered_checks() -> dict[str, ExperimentCheck]:
    """The checks in force, by name (a copy)."""
    return dict(_CHECKS)


def check_experiment(exp: Experiment) -> None:
    """Run every registered check; the first problem raises a `ConfigError` naming its field."""
    if isinstance(exp.task.trainable, str):  # an import path: it must import before anything starts
        import_object(exp.task.trainable, "task.trainable")
    for check in _CHECKS.values():
        check(exp)

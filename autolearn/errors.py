"""One error hierarchy, so callers (the CLI above all) can tell the user's mistakes from bugs.

Every message names the field path, the bad value and what is allowed, because the person
reading it has a spec file open and should be able to fix it without reading our code.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class AutolearnError(Exception):
    """Base of every error autolearn raises on purpose."""


class ConfigError(AutolearnError, ValueError):
    """A spec (YAML or Python) is wrong: raised before any trial starts."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


class DataError(ConfigError):
    """A dataset cannot be loaded as declared (missing file, missing column, non-numeric data)."""


class ResourceError(AutolearnError, RuntimeError):
    """The cluster cannot give what the spec asks for (GPUs where none exist, too many CPUs)."""


class SweepError(AutolearnError, RuntimeError):
    """A sweep could not produce a result (every trial failed, nothing to resume)."""


class StorageFull(SweepError):
    """The storage ran out of space: the sweep stopped, finished trials and the results are kept,
    and `--resume` completes it once there is room (`execution/disk_guard.py`)."""


def allowed(values: Iterable[Any]) -> str:
    """Render a set of allowed names the same way in every message."""
    return ", ".join(repr(v) for v in sorted(values, key=str))


class SweepInterrupted(AutolearnError, RuntimeError):
    """A signal (Ctrl-C, SIGTERM, SIGHUP) stopped the sweep; finished trials and results are saved.

    `exit_code` is the shell's convention, 128 + the signal number (130, 143, 129).
    """

    def __init__(self, signum: int, signame: str, experiment_dir: str) -> None:
        self.signum, self.signame, self.experiment_dir = signum, signame, experiment_dir
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {signame}; finished trials are kept in {experiment_dir}; "
                         f"continue with: autolearn sweep --resume {experiment_dir}")

"""One clear line per trial failure, instead of Ray's full traceback at every retry.

Ray Tune logs "Trial task failed" with the whole Ray traceback each time a trial fails, retries
included, so a user's bug scrolls past many times, wrapped in Ray's frames. This driver-side
callback replaces that with one line per failure (what failed, which retry comes next); the CLI
prints the trial's own traceback once at the end, from the `error.txt` Ray keeps in its folder.
"""
from __future__ import annotations

import logging
from typing import Any

from ray.tune import Callback

log = logging.getLogger("autolearn.trials")
_RAY_LOGGER = "ray.tune.execution.tune_controller"
_RAY_MESSAGE = "Trial task failed for trial"


class _DropTrialTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_RAY_MESSAGE)


class FailureReporter(Callback):
    """Log each trial failure in one line; `max_failures` is the spec's `run.max_failures`."""

    def __init__(self, max_failures: int) -> None:
        self.max_failures = max_failures

    def setup(self, stop: Any = None, num_samples: int | None = None, total_num_samples: int | None = None,
              **info: Any) -> None:
        ray_log = logging.getLogger(_RAY_LOGGER)
        if not any(isinstance(f, _DropTrialTracebacks) for f in ray_log.filters):
            ray_log.addFilter(_DropTrialTracebacks())

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        log.warning("trial %s failed (%s); retry %d of %d from its last checkpoint", trial.trial_id,
                    _last_line(trial), trial.num_failures, self.max_failures)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        log.warning("trial %s failed for good after %d retries (%s); its traceback: %s/error.txt",
                    trial.trial_id, max(trial.num_failures - 1, 0), _last_line(trial), trial.path)


def _last_line(trial: Any) -> str:
    """The exception line of the trial's error file (Ray writes it before calling us)."""
    from pathlib import Path

    try:  # error_file: where the driver wrote it (a staging folder, synced to storage later)
        lines = Path(trial.error_file).read_text(errors="replace").strip().splitlines()
    except (OSError, TypeError):
        return "see its error.txt"
    return lines[-1] if lines else "no message"

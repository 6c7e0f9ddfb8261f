"""When a trial stops on its own: its epoch budget, or a per-trial time limit.

`TrialStopper` ends a trial after its epoch budget or after `run.trial_timeout` seconds of
training (checked at each report, so a trial ends at the first epoch boundary past the limit);
`results.status.classify` then records it as `timeout`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TrialStopper:
    """Stop a trial at `max_epochs` reports or once `time_total_s` reaches `timeout`.

    A plain callable (Ray wraps it in its `FunctionStopper`), so this module needs no Ray to import;
    it is pickled with the run config, which is why it is a module-level class and not a closure.
    """

    def __init__(self, max_epochs: int | None, timeout: float | None) -> None:
        self.max_epochs = max_epochs
        self.timeout = timeout

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        if result.get("timed_out"):  # the trial's watchdog (training/watchdog.py) says it hung
            return True
        if self.max_epochs and int(result.get("training_iteration", 0) or 0) >= self.max_epochs:
            return True
        return self.timeout is not None and self.timeout > 0 and \
            float(result.get("time_total_s", 0.0) or 0.0) >= self.timeout

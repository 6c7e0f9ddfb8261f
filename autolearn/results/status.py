"""How a trial ended: the one list of statuses and the rule that tells them apart.

Every place that shows a status (results.csv, live progress, TensorBoard HParams, the report)
reads it from here, so a new status is added once.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATUSES = ("finished", "stopped", "diverged", "timeout", "error")

def classify(metrics: Mapping[str, Any], error: Any, max_epochs: int | None,
             timeout: float | None = None) -> str:
    """finished / stopped (early, by the scheduler) / diverged / timeout / error.

    A trial that `faults.TrialStopper` ended for running past `run.trial_timeout` is one that
    reached the limit before its epoch budget; Ray records no reason, so the numbers tell.
    """
    if error is not None:
        return "error"
    if metrics.get("diverged"):
        return "diverged"
    done = int(metrics.get("training_iteration", 0) or 0)
    ran_out = timeout is not None and float(metrics.get("time_total_s", 0.0) or 0.0) >= timeout
    if metrics.get("timed_out") or (ran_out and (max_epochs is None or done < max_epochs)):
        return "timeout"
    if max_epochs is not None and done < max_epochs:
        return "stopped"
    return "finished"

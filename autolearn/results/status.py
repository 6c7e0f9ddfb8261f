"""How a trial ended: the one list of statuses, their words for people, and the rule that tells
them apart.

Every place that shows a status (results.csv, live progress, TensorBoard HParams, the report)
reads it from here, so a new status is added once: a name in `STATUSES`, a label in `LABELS`, a
TensorBoard session status in `SESSION_STATUS`, and (when its score cannot be trusted) a place in
`UNSCORED`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RUNNING = "running"  # not ended yet: live progress and the report of a sweep still going
STATUSES = ("finished", "stopped", "diverged", "timeout", "error", "interrupted", "infeasible", "oom")

# Status → the words people read (progress line, report, plot legends).
LABELS = {RUNNING: "running", "finished": "finished", "stopped": "stopped early", "diverged": "diverged",
          "timeout": "timed out", "error": "errored",
          "interrupted": "interrupted", "infeasible": "infeasible", "oom": "out of GPU memory"}

# Status → TensorBoard's own session status (its HParams dashboard knows only success and failure;
# an early stop ended cleanly, so it is a success; the `status` hparam tells the two apart).
SESSION_STATUS = {"finished": "STATUS_SUCCESS", "stopped": "STATUS_SUCCESS", "diverged": "STATUS_FAILURE",
                  "timeout": "STATUS_FAILURE", "error": "STATUS_FAILURE",
                  "interrupted": "STATUS_FAILURE", "infeasible": "STATUS_FAILURE", "oom": "STATUS_FAILURE"}

# Statuses whose scores are not used to pick the best trial or to draw score plots. A timed-out
# trial's score is one it never finished earning, and an interrupted one goes on at `--resume`.
# An infeasible trial broke a `constraints:` bound: its score is real, but it is not an answer.
UNSCORED = frozenset({"diverged", "error", "timeout", "interrupted", "infeasible", "oom"})


def label(status: str) -> str:
    """The words for `status` (an unknown status is shown as its name)."""
    return LABELS.get(status, status)


def is_scored(status: str) -> bool:
    """Whether a trial that ended this way has a score worth comparing (see `UNSCORED`)."""
    return status not in UNSCORED


def classify(metrics: Mapping[str, Any], error: Any, max_epochs: int | None,
             timeout: float | None = None) -> str:
    """How a trial ended (finished / stopped early / diverged / oom / timeout / error),
    from its last report and its error: one rule, so results.csv, progress, TensorBoard and the
    report agree.

    A trial that `execution.stopping.TrialStopper` ended for running past `run.trial_timeout` is
    one that reached the limit before its epoch budget; Ray records no reason, so the numbers tell.
    """
    if error is not None:
        return "error"
    if metrics.get("oom"):  # ran out of GPU memory (training/trainable.py): a share too small, not a bug
        return "oom"
    if metrics.get("diverged"):
        return "diverged"
    done = int(metrics.get("training_iteration", 0) or 0)
    ran_out = timeout is not None and float(metrics.get("time_total_s", 0.0) or 0.0) >= timeout
    if metrics.get("timed_out") or (ran_out and (max_epochs is None or done < max_epochs)):
        return "timeout"
    if max_epochs is not None and done < max_epochs:
        return "stopped"
    return "finished"

"""The Pareto front of a sweep with several objectives, and the `infeasible` status of constraints.

A trial's objective values are its best score of the primary (first) objective, the number that
ranks it everywhere else, and its last report's value of each other objective (the cost metrics
`n_params` and `latency_ms` do not change between epochs). Only scored, feasible trials with a
finite value of every objective can be on the front; a trial is on it when no other such trial
is at least as good on every objective and strictly better on one.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from autolearn.results.status import is_scored
from autolearn.values import is_finite_number

if TYPE_CHECKING:
    from autolearn.config.objectives import ConstraintSpec
    from autolearn.config.sections import MetricSpec
    from autolearn.results.sweep import TrialRow

log = logging.getLogger(__name__)
INFEASIBLE = "infeasible"
FEASIBLE_STATUSES = ("finished", "stopped")  # ended with a score: the statuses a constraint may overturn


def dominates(a: Sequence[float], b: Sequence[float], modes: Sequence[str]) -> bool:
    """`a` is at least as good as `b` on every objective and strictly better on one."""
    better = False
    for x, y, mode in zip(a, b, modes, strict=True):
        if (x < y) if mode == "max" else (x > y):
            return False
        better = better or x != y
    return better


def front_indices(points: Sequence[Sequence[float]], modes: Sequence[str]) -> list[int]:
    """Indices of the non-dominated points, in their order (pairwise: sweeps are hundreds of trials)."""
    return [i for i, p in enumerate(points)
            if not any(dominates(q, p, modes) for j, q in enumerate(points) if j != i)]


def objective_values(row: TrialRow, objectives: Sequence[MetricSpec]) -> list[float] | None:
    """The trial's point in objective space (module doc), or None when it cannot be compared."""
    if not is_scored(row.status) or not is_finite_number(row.best_score):
        return None
    values = [float(row.best_score)]  # type: ignore[arg-type, unused-ignore]
    for spec in objectives[1:]:
        value = row.metrics.get(spec.name)
        if not is_finite_number(value):
            return None
        values.append(float(value))
    return values


def pareto_front(rows: Sequence[TrialRow], objectives: Sequence[MetricSpec]) -> list[TrialRow]:
    """The rows on the Pareto front over `objectives` (the primary first), in their order."""
    candidates = [(row, v) for row in rows if (v := objective_values(row, objectives)) is not None]
    keep = front_indices([v for _, v in candidates], [o.mode for o in objectives])
    return [candidates[i][0] for i in keep]


def mark_infeasible(rows: Sequence[TrialRow], constraints: Sequence[ConstraintSpec]) -> int:
    """Give every finished or early-stopped row whose last report breaks a constraint the status
    `infeasible` (errored, diverged... keep theirs: they failed first). Returns how many."""
    if not constraints:
        return 0
    count = 0
    for row in rows:
        status = constrained_status(row.status, row.metrics, constraints)
        count += status != row.status
        row.status = status
    for c in constraints:
        if rows and not any(c.metric in row.metrics for row in rows):
            log.warning("no trial reported %r, which constraints name: every trial that ended is infeasible; "
                        "report it, or drop the constraint", c.metric)
    return count


def constrained_status(status: str, metrics: Mapping[str, Any], constraints: Sequence[ConstraintSpec]) -> str:
    """`status` (from `status.classify`), or `infeasible` for a trial that ended with a score but
    broke a constraint: the one rule for results.csv, TensorBoard HParams and live progress."""
    if not constraints or status not in FEASIBLE_STATUSES:
        return status
    from autolearn.config.objectives import is_feasible

    return status if is_feasible(metrics, constraints) else INFEASIBLE


def front_summary(rows: Sequence[TrialRow], objectives: Sequence[MetricSpec]) -> list[dict[str, Any]]:
    """The front as summary.json shows it: each member's id, config and objective values."""
    out = []
    for row in rows:
        values = objective_values(row, objectives) or []
        out.append({"trial_id": row.trial_id, "config": dict(row.config),
                    **{o.name: v for o, v in zip(objectives, values)}})
    return out

"""Several objectives at the end of a sweep: constraints applied, the Pareto front found, and each
front member scored on the test split.

The order is the reliability order of `runner.collect`: rows and front are saved before any test
scoring; each member's scores are added after, and a member that fails to score is written down
(`pareto_test_scores[id] = {"test_error": ...}`) without costing the others or the results.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from autolearn.config.spec import Experiment
from autolearn.results import SweepResult
from autolearn.results.pareto import mark_infeasible, pareto_front

if TYPE_CHECKING:
    from ray.tune import Result

    from autolearn.results.sweep import TrialRow
    from autolearn.training.loop import TrainJob

log = logging.getLogger(__name__)


def apply_objectives(exp: Experiment, rows: Sequence[TrialRow]) -> dict[str, Any]:
    """Mark infeasible rows (in place); the `SweepResult` fields of several objectives."""
    infeasible = mark_infeasible(rows, exp.constraints)
    if infeasible:
        log.info("%d trial(s) broke a constraint: status infeasible, never best nor on the front", infeasible)
    if len(exp.objectives) < 2:
        return {}
    front = pareto_front(rows, exp.objectives)
    return {"objectives": [{"name": o.name, "mode": o.mode} for o in exp.objectives],
            "pareto_ids": [row.trial_id for row in front]}


def score_front(sweep: SweepResult, results: Mapping[str, Result], exp: Experiment, job: TrainJob | None) -> None:
    """The test-split scores of every front member (the best trial's are reused): built-in loop only."""
    if job is None:
        return
    from autolearn.execution.runner import _best_checkpoint, _test_scores

    for row in sweep.pareto:
        if row.trial_id == sweep.best_trial_id and sweep.test_scores:
            sweep.pareto_test_scores[row.trial_id] = dict(sweep.test_scores)
            continue
        result = results[row.trial_id]
        try:
            if job.resampling is not None:  # cv/repeats: retrain on the whole training part, as for the best
                from autolearn.training.cv import retrain_and_test

                sweep.pareto_test_scores[row.trial_id] = retrain_and_test(job, result.config or {},
                                                                          row.best_epoch or row.epochs)
                continue
            checkpoint = _best_checkpoint(result, exp)
            if checkpoint is not None:
                sweep.pareto_test_scores[row.trial_id] = _test_scores(job, result.config, checkpoint)
        except Exception as err:  # written down, never raised: the results are worth more
            text = f"{type(err).__name__}: {err}".splitlines()[0]
            sweep.pareto_test_scores[row.trial_id] = {"test_error": text}  # type: ignore[dict-item]
            log.error("scoring front member %s on the test split failed (%s)", row.trial_id, text)

"""The Pareto front and the constraints, without Ray: exact fronts of known sets, checked pairwise."""
from __future__ import annotations

import itertools
import random

import pytest

from autolearn.config import Experiment, MetricSpec
from autolearn.config.objectives import ConstraintSpec
from autolearn.results.pareto import dominates, front_indices, mark_infeasible, pareto_front
from autolearn.results.sweep import SweepResult, TrialRow, pick_best

ACC_MAX, PARAMS_MIN = MetricSpec("val_accuracy", "max"), MetricSpec("n_params", "min")


def _row(tid: str, acc: float | None, n_params: float | None, status: str = "finished", **metrics) -> TrialRow:
    reported = {"val_accuracy": acc, **({"n_params": n_params} if n_params is not None else {}), **metrics}
    return TrialRow(trial_id=tid, status=status, epochs=2, config={"lr": 0.1}, metrics=reported,
                    best_score=acc, best_epoch=2)


def test_front_of_a_known_set_is_exact():
    rows = [_row("a", 0.90, 1000), _row("b", 0.95, 5000), _row("c", 0.85, 500), _row("d", 0.88, 2000),
            _row("e", 0.95, 6000), _row("f", 0.90, 1000), _row("g", 0.80, 500)]
    # d is dominated by a; e by b (same accuracy, more parameters); g by c; f ties a and stays.
    assert [r.trial_id for r in pareto_front(rows, (ACC_MAX, PARAMS_MIN))] == ["a", "b", "c", "f"]


@pytest.mark.parametrize("seed", range(5))
def test_front_is_exactly_the_non_dominated_points_pairwise(seed):
    rng = random.Random(seed)
    modes = [rng.choice(["min", "max"]) for _ in range(3)]
    points = [[float(rng.randint(0, 6)) for _ in modes] for _ in range(40)]  # ties on purpose
    front = set(front_indices(points, modes))
    for i, p in enumerate(points):
        dominated = any(dominates(q, p, modes) for q in points)
        assert (i in front) == (not dominated)
    for i, j in itertools.combinations(sorted(front), 2):  # no member dominates another
        assert not dominates(points[i], points[j], modes) and not dominates(points[j], points[i], modes)


def test_dominance_respects_each_mode():
    assert dominates([0.9, 10], [0.8, 20], ["max", "min"])
    assert not dominates([0.9, 30], [0.8, 20], ["max", "min"])
    assert not dominates([0.9, 20], [0.9, 20], ["max", "min"])  # equal: neither dominates


def test_unscored_and_incomplete_trials_are_never_on_the_front():
    rows = [_row("ok", 0.5, 100), _row("err", 0.99, 1, status="error"), _row("div", 0.99, 1, status="diverged"),
            _row("nan", float("nan"), 1), _row("noparams", 0.99, None)]
    assert [r.trial_id for r in pareto_front(rows, (ACC_MAX, PARAMS_MIN))] == ["ok"]


def test_constraints_make_trials_infeasible_never_best_nor_on_the_front():
    rows = [_row("big", 0.99, 200_000), _row("small", 0.80, 50_000), _row("failed", 0.99, 1, status="error"),
            _row("edge", 0.85, 100_000)]
    limits = (ConstraintSpec("n_params", max=100_000),)
    assert mark_infeasible(rows, limits) == 1
    assert [r.status for r in rows] == ["infeasible", "finished", "error", "finished"]  # bounds inclusive
    assert pick_best(rows, "max").trial_id == "edge"
    assert [r.trial_id for r in pareto_front(rows, (ACC_MAX, PARAMS_MIN))] == ["small", "edge"]


def test_a_constraint_on_a_metric_never_reported_makes_the_trial_infeasible():
    rows = [_row("a", 0.9, 10)]
    mark_infeasible(rows, (ConstraintSpec("latency_ms", max=2.0),))
    assert rows[0].status == "infeasible"


def test_constraint_violation_measures_the_distance_outside():
    c = ConstraintSpec("latency_ms", min=1.0, max=2.0)
    assert [c.violation(v) for v in (1.0, 1.5, 2.0, 3.0, 0.5)] == [0.0, 0.0, 0.0, 1.0, 0.5]
    assert c.violation(None) == float("inf") and c.violation(float("nan")) == float("inf")


def test_results_csv_has_the_pareto_column_only_with_several_objectives():
    rows = [_row("a", 0.9, 10), _row("b", 0.8, 20)]
    sweep = SweepResult(name="x", experiment_dir="/tmp/x", metric="val_accuracy", mode="max", space_keys=["lr"],
                        trials=rows, wall_time_s=1.0, best_trial_id="a",
                        objectives=[{"name": "val_accuracy", "mode": "max"}, {"name": "n_params", "mode": "min"}],
                        pareto_ids=["a"], pareto_test_scores={"a": {"test_accuracy": 0.85}})
    assert [r["pareto"] for r in sweep.table()] == [True, False]
    assert "pareto" in sweep.to_csv().splitlines()[0].split(",")
    assert [r.trial_id for r in sweep.pareto] == ["a"]
    front = sweep.summary()["pareto_front"]
    assert front == [{"trial_id": "a", "config": {"lr": 0.1}, "val_accuracy": 0.9, "n_params": 10.0,
                      "test_scores": {"test_accuracy": 0.85}}]
    single = SweepResult(name="x", experiment_dir="/tmp/x", metric="val_accuracy", mode="max", space_keys=["lr"],
                         trials=rows, wall_time_s=1.0)
    assert "pareto" not in single.to_csv().splitlines()[0] and "pareto_front" not in single.summary()


def test_metric_list_keeps_the_primary_as_metric_and_round_trips():
    exp = Experiment(metric=[{"name": "val_accuracy", "mode": "max"}, {"name": "n_params", "mode": "min"}],
                     constraints=[{"metric": "latency_ms", "max": 2}], space={"lr": {"type": "float", "low": 0.01,
                                                                                     "high": 0.1}})
    assert exp.metric == ACC_MAX and exp.objectives == (ACC_MAX, PARAMS_MIN)
    assert exp.constraints == (ConstraintSpec("latency_ms", max=2.0),)
    again = Experiment.from_dict(exp.to_dict())
    assert again.objectives == exp.objectives and again.constraints == exp.constraints
    assert exp.with_overrides(name="other").objectives == exp.objectives
    assert exp.with_overrides(metric=MetricSpec("val_loss", "min")).objectives == (MetricSpec("val_loss", "min"),)


def test_live_progress_never_calls_an_infeasible_report_best_and_ends_it_infeasible():
    from autolearn.inspection.progress import SweepProgress

    progress = SweepProgress(metric="val_accuracy", max_epochs=1, constraints=(ConstraintSpec("n_params", max=100),))
    big = {"val_accuracy": 0.99, "n_params": 1000, "training_iteration": 1}
    assert not progress.result("big", {}, big)
    assert progress.result("small", {}, {**big, "val_accuracy": 0.5, "n_params": 10})
    progress.end("big", big)
    assert progress.status["big"] == "infeasible" and progress.best_trial == "small"

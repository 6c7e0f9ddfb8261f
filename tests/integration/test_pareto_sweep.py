"""Several objectives and constraints end to end on real Ray: one small constrained sweep with the
multi-objective strategy, its files, its front and its report."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autolearn import Experiment, run_experiment

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.slow]
LIMIT = 5000  # parameters: the MLP of 20 features is feasible up to about 60 hidden units


def test_constrained_multi_objective_sweep_writes_its_front(seed_dict, storage):
    data = {**seed_dict, "storage": storage, "name": "pareto-small",
            "task": {**seed_dict["task"], "dataset": {**seed_dict["task"]["dataset"], "n_samples": 300}},
            "train": {**seed_dict["train"], "epochs": 2},
            "metric": [{"name": "val_accuracy", "mode": "max"}, {"name": "n_params", "mode": "min"}],
            "constraints": [{"metric": "n_params", "max": LIMIT}],
            "search": {"strategy": "motpe", "num_samples": 5, "seed": 0, "n_initial_points": 3,
                       "points_to_evaluate": [  # one sure to break the constraint, one sure to keep it
                           {"lr": 0.01, "batch_size": 32, "hidden_units": 256, "optimizer": "adam"},
                           {"lr": 0.01, "batch_size": 32, "hidden_units": 16, "optimizer": "adam"}]}}
    result = run_experiment(Experiment.from_dict(data))

    by_id = {t.trial_id: t for t in result.trials}
    statuses = [t.status for t in result.trials]
    assert "infeasible" in statuses and set(statuses) <= {"finished", "infeasible"}
    for t in result.trials:  # the cost metrics are reported, and the status follows the bound
        assert t.metrics["n_params"] > 0 and t.metrics["latency_ms"] > 0 and t.metrics["epoch_time_s"] > 0
        assert (t.status == "infeasible") == (t.metrics["n_params"] > LIMIT)
    assert result.best is not None and result.best.status == "finished"
    assert result.pareto and all(t.status == "finished" for t in result.pareto)
    assert set(result.pareto_test_scores) == {t.trial_id for t in result.pareto}
    assert all(0.0 <= s["test_accuracy"] <= 1.0 for s in result.pareto_test_scores.values())

    folder = Path(result.experiment_dir)
    with open(folder / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["trial_id"] for r in rows if r["pareto"] == "True"} == {t.trial_id for t in result.pareto}
    summary = json.loads((folder / "summary.json").read_text())
    assert [m["trial_id"] for m in summary["pareto_front"]] == [t.trial_id for t in result.pareto]
    assert summary["status_counts"]["infeasible"] == statuses.count("infeasible")
    assert by_id[summary["best_trial_id"]].status == "finished"

    from autolearn.inspection.report import write_report

    report = write_report(folder)
    assert "pareto_front.png" in report.images and report.images["pareto_front.png"].is_file()
    panel = report.plotted["pareto_front.png"][0]
    assert panel["xlabel"] == "n_params" and panel["ylabel"] == "val_accuracy"
    front_line = panel["lines"]["Pareto front"]
    assert sorted(front_line[0]) == sorted(float(t.metrics["n_params"]) for t in result.pareto)
    assert "## Pareto front" in report.markdown.read_text()

"""Conditional parameters end to end on a real local Ray: trials get only their active parameters,
results.csv leaves the rest blank, and the report draws around them."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from autolearn import Experiment, run_experiment

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.slow]  # two small sweeps, a few s each

SPACE = {
    "optimizer": {"type": "choice", "values": ["sgd", "momentum"]},
    "momentum": {"type": "choice", "values": [0.5, 0.9], "when": {"optimizer": ["momentum"]}},
}


def _experiment(seed_dict: dict, storage: str, strategy: str, num_samples: int, space: dict) -> Experiment:
    data = {**seed_dict, "storage": storage, "name": f"conditional-{strategy}", "space": space,
            "train": {**seed_dict["train"], "epochs": 1},
            "task": {**seed_dict["task"], "dataset": {**seed_dict["task"]["dataset"], "n_samples": 200}}}
    data["search"] = {"strategy": strategy, "num_samples": num_samples, "seed": 0, "max_concurrent": 2,
                      **({"n_initial_points": 2} if strategy == "tpe" else {})}
    return Experiment.from_dict(data)


def test_grid_runs_only_the_active_combinations(seed_dict, storage):
    from autolearn.inspection.report import write_report

    exp = _experiment(seed_dict, storage, "grid", 1, SPACE)
    result = run_experiment(exp)
    configs = sorted((t.config for t in result.trials), key=repr)
    assert configs == sorted([{"optimizer": "sgd"}, {"optimizer": "momentum", "momentum": 0.5},
                              {"optimizer": "momentum", "momentum": 0.9}], key=repr)
    assert all(t.status == "finished" for t in result.trials)
    with open(Path(result.experiment_dir) / "results.csv") as handle:
        rows = {r["optimizer"] + r["momentum"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"sgd", "momentum0.5", "momentum0.9"}  # sgd's momentum cell is blank
    report = write_report(result.experiment_dir)
    assert report.markdown.is_file() and "parallel_coordinates.png" in report.images


def test_tpe_sweep_leaves_inactive_parameters_out(seed_dict, storage):
    space = {**SPACE, "momentum": {"type": "float", "low": 0.5, "high": 0.99, "when": {"optimizer": ["momentum"]}},
             "lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}
    exp = _experiment(seed_dict, storage, "tpe", 4, space)
    result = run_experiment(exp)
    assert len(result.trials) == 4 and all(t.status == "finished" for t in result.trials)
    for trial in result.trials:
        assert exp.space.contains(trial.config), trial.config
        assert ("momentum" in trial.config) == (trial.config["optimizer"] == "momentum")

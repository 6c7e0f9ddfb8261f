"""The optimisation toolbox in a real (small) sweep: cv folds, auto lr and batch, a warm-up schedule."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from autolearn import Experiment, run_experiment

pytestmark = pytest.mark.usefixtures("ray_session")


def test_cv_sweep_with_auto_values_and_warmup(seed_dict, storage):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    data = {**seed_dict, "storage": storage, "name": "toolbox"}
    data["task"] = {**seed_dict["task"], "cv": {"folds": 3}}
    data["train"] = {**seed_dict["train"], "epochs": 2, "lr_schedule": "warmup_cosine", "lr_warmup_epochs": 1,
                     "batch_size": "auto", "batch_memory_mb": 1}
    data["space"] = {"lr": {"type": "float", "auto": True}, "hidden_units": {"type": "int", "low": 8, "high": 32}}
    data["search"] = {"strategy": "random", "num_samples": 2, "seed": 3}
    result = run_experiment(Experiment.from_dict(data))

    folder = Path(result.experiment_dir)
    summary = json.loads((folder / "summary.json").read_text())
    auto = summary["auto"]
    assert isinstance(auto["batch_size"]["batch_size"], int) and auto["batch_size"]["memory"]["budget_mb"] == 1
    low, high = auto["lr"]["low"], auto["lr"]["high"]
    assert 0 < low < auto["lr"]["optimizers"]["adam"]["suggestion"] < high
    assert summary["cv"] == {"folds": 3, "stratified": True, "repeats": 1, "fits_per_trial": 3,
                             "retrained_on": "train+validation", "retrain_epochs": result.best.best_epoch}
    assert 0.0 <= summary["test_accuracy"] <= 1.0  # 2 epochs at a large batch: the score itself is not the point
    with open(folder / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2
    for row in rows:
        assert row["status"] == "finished" and row["folds"] == "3"
        assert math.isfinite(float(row["val_accuracy_std"])) and float(row["val_accuracy_std"]) >= 0
    for trial in result.trials:
        assert low <= trial.config["lr"] <= high
    # TensorBoard shows the rate actually used (half the peak in the warm-up epoch) and the spread.
    runs = [p for p in (folder / "tensorboard").iterdir() if p.is_dir()]
    events = EventAccumulator(str(runs[0]))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"lr", "val_accuracy_std", "val/accuracy"} <= tags
    rates = [s.value for s in events.Scalars("lr")]
    assert len(rates) == 2 and rates[0] == pytest.approx(rates[1] / 2, rel=1e-5)
    # The report says what the score is a mean of, with its spread.
    from autolearn.inspection.report import write_report

    report = write_report(str(folder), str(folder / "report"))
    text = Path(report.markdown).read_text()
    assert "The score is the mean of 3 fits (3 folds × 1 repeats) (± " in text
    assert "retrained on train+validation" in text

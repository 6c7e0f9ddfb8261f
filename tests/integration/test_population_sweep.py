"""Population-based training through real Ray Tune: pbt with the built-in trainable, pb2 with a
user trainable that checkpoints. Two trials, two or four epochs, a few hundred synthetic rows.

The exploit's fine print (donor weights and optimizer state, the new rate in force) is checked
exactly in tests/unit/training/test_exploit.py; here the same thing is seen from outside, in what
the trials report while Ray's PBT clones one into the other.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ray.tune import Callback

from autolearn import Experiment, run_experiment

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.slow]


class Reports(Callback):
    """Every report as the driver saw it, after autolearn's own callbacks (so with `hp/lr`)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self.seen.append({"trial": trial.trial_id, **{k: v for k, v in result.items() if k != "config"}})


def _population(storage: str, name: str, scheduler: dict[str, Any], **changes: Any) -> dict[str, Any]:
    # A hopeless rate and a good one: the first is cloned from the second at a perturbation.
    spec: dict[str, Any] = {
        "name": name, "storage": storage,
        "task": {"dataset": {"name": "synthetic_classification", "n_samples": 300, "n_features": 6}},
        "model": {"name": "mlp", "hidden_units": 8}, "train": {"epochs": 2, "optimizer": "momentum"},
        "metric": {"name": "val_loss", "mode": "min"},
        "space": {"lr": {"type": "float", "low": 1e-5, "high": 0.5, "log": True}},
        "search": {"strategy": "random", "num_samples": 2, "seed": 3,
                   "points_to_evaluate": [{"lr": 1e-5}, {"lr": 0.1}]},
        "scheduler": scheduler,
    }
    spec.update(changes)
    return spec


def test_pbt_clones_the_better_trial_and_trains_it_on_at_the_new_rate(storage):
    reports = Reports()
    # synch: each trial waits for the other at every epoch, so however late one starts, they meet.
    scheduler = {"name": "pbt", "perturbation_interval": 1, "quantile_fraction": 0.5,
                 "resample_probability": 0.0, "mutate": ["lr"], "synch": True}
    sweep = run_experiment(Experiment.from_dict(_population(storage, "pbt", scheduler)), callbacks=[reports])
    assert sweep.status_counts()["finished"] == 2
    folder = Path(sweep.experiment_dir)
    exploits = [json.loads(line) for line in (folder / "pbt_global.txt").read_text().splitlines()]
    assert exploits, "no trial was cloned"
    # In every report the rate the optimizer stepped with is the config's: after an exploit too,
    # when the loaded optimizer state still carried the donor's rate.
    for report in reports.seen:
        assert report["lr"] == pytest.approx(report["hp/lr"], rel=1e-12), report
    clone_id = next(tid for tid, steps in sweep.hparam_schedule.items() if steps[0]["lr"] == 1e-5)
    clone = [r for r in reports.seen if r["trial"] == clone_id]
    changed = next(i for i, r in enumerate(clone) if r["hp/lr"] != 1e-5)
    # The first epoch at the new rate follows the donor's checkpoint: it does not start over at 1.
    assert clone[changed]["training_iteration"] >= 2
    assert clone[changed]["hp/lr"] in (pytest.approx(0.1 * 0.8), pytest.approx(0.1 * 1.2))  # the donor's, perturbed
    schedule = sweep.hparam_schedule[clone_id]
    assert [s["epoch"] for s in schedule] == [1, 2] and schedule[-1]["lr"] != 1e-5
    assert (folder / "results.csv").read_text().splitlines()[0].count("hp/lr") == 1
    _check_tensorboard(folder, epochs=2)


def _check_tensorboard(folder: Path, epochs: int) -> None:
    """Each trial's run has an `hp/lr` scalar at every epoch: the schedule, drawn by TensorBoard."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    runs = [p for p in (folder / "tensorboard").iterdir() if p.is_dir()]
    assert len(runs) == 2
    for run in runs:
        events = EventAccumulator(str(run))
        events.Reload()
        assert sorted({e.step for e in events.Scalars("hp/lr")}) == list(range(1, epochs + 1))


def test_pb2_runs_a_user_trainable_that_checkpoints(storage):
    spec = {"name": "pb2", "storage": storage, "task": {"trainable": "custom_plugins:checkpointing_trainable"},
            "metric": {"name": "score", "mode": "max"},
            "space": {"lr": {"type": "float", "low": 0.01, "high": 1.0}},
            "search": {"strategy": "random", "num_samples": 2, "seed": 1,
                       "points_to_evaluate": [{"lr": 0.01}, {"lr": 0.9}]},
            "scheduler": {"name": "pb2", "max_t": 4, "perturbation_interval": 1, "quantile_fraction": 0.5,
                          "synch": True}}
    sweep = run_experiment(Experiment.from_dict(spec))
    assert sweep.status_counts()["finished"] == 2
    schedules = sweep.hparam_schedule
    assert set(schedules) == {t.trial_id for t in sweep.trials}
    slow = next(tid for tid, steps in schedules.items() if steps[0]["lr"] == 0.01)
    assert any(step["lr"] != 0.01 for step in schedules[slow]), "pb2 never moved the slow trial's rate"
    assert all(0.01 <= step["lr"] <= 1.0 for steps in schedules.values() for step in steps)
    row = next(t for t in sweep.trials if t.trial_id == slow)
    assert row.metrics["score"] > 0.01 * 4  # it went on from the fast trial's checkpoint, not from 0

"""The seed sweep end to end on a real local Ray: strategies, ASHA, divergence, files, TensorBoard."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autolearn import Experiment, run_experiment

pytestmark = pytest.mark.usefixtures("ray_session")


def _small(seed_dict: dict, storage: str, **sections) -> Experiment:
    data = {**seed_dict, "storage": storage, **sections}
    data["train"] = {**seed_dict["train"], "epochs": 3, **sections.get("train", {})}
    return Experiment.from_dict(data)


@pytest.fixture(scope="module")
def seed_sweep(ray_session, tmp_path_factory):
    """One small seed sweep read by several tests (each sweep costs its trials' process start-up)."""
    from autolearn.config.defaults import seed_spec

    exp = _small(seed_spec(), str(tmp_path_factory.mktemp("runs")),
                 search={"strategy": "random", "num_samples": 4, "seed": 42})
    return exp, run_experiment(exp)


def test_seed_spec_small_finishes_with_all_outputs(seed_sweep):
    exp, result = seed_sweep
    assert len(result.trials) == 4
    assert all(t.status == "finished" and t.epochs == 3 for t in result.trials)
    assert exp.space.contains(result.best_config)
    assert 0.5 < result.test_scores["test_accuracy"] <= 1.0
    folder = Path(result.experiment_dir)
    with open(folder / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    assert {"trial_id", "status", "epochs", "lr", "batch_size", "hidden_units", "optimizer",
            "val_accuracy", "val_loss", "train_loss", "best_val_accuracy"} <= set(rows[0])
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["best_config"] == result.best_config
    assert summary["status_counts"]["finished"] == 4 and summary["test_accuracy"] == result.test_scores["test_accuracy"]
    assert (folder / "spec.yaml").is_file()
    runs = [p for p in (folder / "tensorboard").iterdir() if p.is_dir()]
    assert len(runs) == 4


def test_tensorboard_event_files_hold_the_reported_scalars(seed_sweep):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from autolearn.inspection.tensorboard import run_name

    exp, result = seed_sweep
    for trial in result.trials:  # each trial's own run, named by run_name
        run = Path(result.experiment_dir) / "tensorboard" / run_name(trial.trial_id, trial.config, list(exp.space))
        events = EventAccumulator(str(run))
        events.Reload()
        tags = set(events.Tags()["scalars"])
        assert {"train/loss", "val/loss", "val/accuracy", "lr"} <= tags
        accuracy = events.Scalars("val/accuracy")
        assert [e.step for e in accuracy] == [1, 2, 3]
        assert accuracy[-1].value == pytest.approx(trial.metrics["val_accuracy"], rel=1e-6)


def test_grid_runs_exactly_the_product_of_its_values(seed_dict, storage):
    space = {"optimizer": {"type": "choice", "values": ["sgd", "adam"]},
             "hidden_units": {"type": "grid", "values": [8, 16, 32]}}
    exp = _small(seed_dict, storage, space=space, search={"strategy": "grid"}, train={"epochs": 1})
    result = run_experiment(exp)
    combos = sorted((t.config["optimizer"], t.config["hidden_units"]) for t in result.trials)
    assert combos == sorted((o, h) for o in ("sgd", "adam") for h in (8, 16, 32))  # each once, nothing else


def test_asha_stops_some_trials_early(seed_dict, storage):
    # One trial at a time, in grid order: a learning rate that learns first, then three that learn
    # nothing. ASHA compares each trial at epoch 1 with the scores already recorded there, so the
    # second trial meets the good one's score alone and is stopped, whatever the machine's timing.
    good, bad = 0.05, [1e-6, 2e-6, 3e-6]
    exp = _small(seed_dict, storage, train={"epochs": 4}, space={"lr": {"type": "grid", "values": [good, *bad]}},
                 search={"strategy": "grid", "max_concurrent": 1},
                 scheduler={"name": "asha", "grace_period": 1, "reduction_factor": 2})
    result = run_experiment(exp)
    by_lr = {t.config["lr"]: t for t in result.trials}
    assert (by_lr[good].status, by_lr[good].epochs) == ("finished", 4)
    assert (by_lr[bad[0]].status, by_lr[bad[0]].epochs) == ("stopped", 1)
    assert all(t.epochs < 4 and t.config["lr"] in bad for t in result.trials if t.status == "stopped")


def test_a_diverging_trial_is_recorded_and_the_sweep_goes_on(seed_dict, storage):
    space = {"lr": {"type": "grid", "values": [1.0e6, 0.05]}}
    exp = _small(seed_dict, storage, space=space, train={"optimizer": "sgd", "epochs": 3},
                 search={"strategy": "grid"})
    result = run_experiment(exp)
    by_lr = {t.config["lr"]: t for t in result.trials}
    assert by_lr[1.0e6].status == "diverged" and by_lr[1.0e6].epochs == 1
    assert by_lr[0.05].status == "finished" and by_lr[0.05].epochs == 3
    assert result.best_config == {"lr": 0.05}


def _user_trainable(config):
    import autolearn

    for step in range(1, 4):
        autolearn.report({"score": -((config["x"] - 2.0) ** 2) + step * config["bonus"]})


def test_a_user_trainable_runs_with_the_same_machinery(storage):
    exp = Experiment(name="user-fn", storage=storage, task={"trainable": _user_trainable, "params": {"bonus": 0.0}},
                     space={"x": {"type": "float", "low": 0.0, "high": 4.0}},
                     search={"strategy": "random", "num_samples": 3, "seed": 0},
                     metric={"name": "score", "mode": "max"})
    result = run_experiment(exp)
    assert len(result.trials) == 3 and all(t.epochs == 3 for t in result.trials)
    best = max(result.trials, key=lambda t: t.best_score)
    assert result.best_trial_id == best.trial_id
    assert "x" in result.best_config and "bonus" not in result.best_config
    assert not result.test_scores


def test_an_existing_experiment_folder_is_not_overwritten(seed_dict, storage):
    from autolearn.errors import ConfigError

    exp = _small(seed_dict, storage, search={"strategy": "random", "num_samples": 1})
    Path(storage, exp.name).mkdir(parents=True)
    with pytest.raises(ConfigError, match="--resume"):
        run_experiment(exp)

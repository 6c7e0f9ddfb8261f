"""Fused sweeps on a real local Ray: every member is its own trial, with the results it gives alone."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from autolearn import Experiment, run_experiment
from autolearn.testing.solo import solo_val_losses

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.slow]
EPOCHS, TRIALS = 3, 8


def _spec(seed_dict: dict, storage: str, name: str, fuse: int | str = 4, strategy: str = "random",
          scheduler: str = "fifo") -> Experiment:
    data = {**seed_dict, "storage": storage, "name": name}
    data["task"] = {**seed_dict["task"], "dataset": {**seed_dict["task"]["dataset"], "n_samples": 400}}
    data["train"] = {**seed_dict["train"], "epochs": EPOCHS}
    data["search"] = {"strategy": strategy, "num_samples": TRIALS, "seed": 5, "fuse": fuse}
    asha = {"grace_period": 1, "reduction_factor": 3} if scheduler == "asha" else {}
    data["scheduler"] = {"name": scheduler, **asha}
    return Experiment.from_dict(data)


def _histories(result) -> dict[tuple, list[dict]]:
    """Config → the metrics of each epoch, from each trial's result.json."""
    out = {}
    for trial in result.trials:
        lines = (Path(trial.path) / "result.json").read_text().splitlines()
        out[tuple(sorted(trial.config.items()))] = [json.loads(line) for line in lines]
    return out


def _alone(exp: Experiment, config: dict) -> list[float]:
    """Validation losses of one config trained alone, by the solo trainable's own loop (no Ray)."""
    torch.set_num_threads(1)  # as the trial had: one CPU
    return solo_val_losses(exp, config)


@pytest.mark.parametrize("strategy, scheduler", [("random", "fifo"), ("tpe", "fifo"), ("random", "asha")])
def test_fused_members_report_what_each_config_gives_alone(seed_dict, storage, strategy, scheduler):
    exp = _spec(seed_dict, storage, f"fused-{strategy}-{scheduler}", strategy=strategy, scheduler=scheduler)
    result = run_experiment(exp)
    assert len(result.trials) == TRIALS and len({t.trial_id for t in result.trials}) == TRIALS
    assert result.test_scores  # the best member's checkpoint is the solo format
    for config, history in _histories(result).items():
        assert [h["epoch"] for h in history] == list(range(1, len(history) + 1))
        expected = _alone(exp, dict(config))[:len(history)]
        assert [h["val_loss"] for h in history] == pytest.approx(expected, rel=1e-5)
    if scheduler == "fifo":
        assert all(t.status == "finished" and t.epochs == EPOCHS for t in result.trials)
    else:  # ASHA stops members per member: a stopped one reports (and trains) no further epoch
        assert any(t.epochs < EPOCHS for t in result.trials), [t.epochs for t in result.trials]


def test_fused_sweep_equals_the_same_sweep_unfused(seed_dict, storage):
    fused = _histories(run_experiment(_spec(seed_dict, storage, "fused", fuse=4)))
    solo = _histories(run_experiment(_spec(seed_dict, storage, "solo", fuse=1)))
    assert fused.keys() == solo.keys()
    for config, history in solo.items():
        for mine, theirs in zip(fused[config], history, strict=True):
            for key in ("epoch", "train_loss", "val_loss", "val_accuracy", "lr"):
                assert mine[key] == pytest.approx(theirs[key], rel=1e-5), (config, key)


def test_fuse_auto_chooses_k_and_says_so(seed_dict, storage, caplog):
    result = run_experiment(_spec(seed_dict, storage, "auto", fuse="auto"))
    assert any("auto chose K=" in r.getMessage() for r in caplog.records)
    assert all(t.status == "finished" for t in result.trials)

"""In-process sweeps on the shared Ray: a trial that hangs inside an epoch is ended by the
timeout while the sweep goes on; a failing test-split evaluation costs no result; a sweep stopped
by a real SIGTERM resumes from a moved folder (TensorBoard follows) and from a file:// URI; a
damaged Ray state gives a clear message."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from ray.tune import Callback

from autolearn import Experiment, run_experiment
from autolearn.errors import SweepError, SweepInterrupted
from autolearn.execution.resume import resume_experiment

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.slow]


def _exp(seed_dict: dict, storage: str, **sections) -> Experiment:
    data = {**seed_dict, "storage": storage, "name": "rel",
            "task": {"dataset": {"name": "synthetic_classification", "n_samples": 200, "n_features": 6}},
            "train": {**seed_dict["train"], "epochs": 2, "batch_size": 32}, **sections}
    return Experiment.from_dict(data)


def _rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv") as handle:
        return list(csv.DictReader(handle))


def test_a_hung_trial_times_out_and_a_failing_test_score_loses_nothing(seed_dict, storage, monkeypatch):
    import autolearn.training.loop as loop

    def out_of_memory(*args, **kwargs):
        raise MemoryError("test split does not fit")

    monkeypatch.setattr(loop, "evaluate_on_test", out_of_memory)  # a fault at the evaluation, in the driver
    exp = _exp(seed_dict, storage, model={"name": "reliability_models:hanging_mlp"},
               space={"hidden_units": {"type": "choice", "values": [8, 16]}},
               search={"strategy": "grid"}, run={"trial_timeout": 8})
    result = run_experiment(exp)
    status = {t.config["hidden_units"]: t.status for t in result.trials}
    assert status == {8: "timeout", 16: "finished"}
    assert result.best_config == {"hidden_units": 16}  # the timed-out trial is never the best
    folder = Path(result.experiment_dir)
    assert len(_rows(folder)) == 2
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["test_error"] == "MemoryError: test split does not fit" and summary["complete"] is True
    assert summary["best_config"] == {"hidden_units": 16}


class SigtermAfterFirstTrial(Callback):
    """Sends this driver a real SIGTERM once one trial has completed, once: Ray restores the run's
    callbacks with its state, so the resumed sweep has this one too (the marker file stops it)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def on_trial_complete(self, iteration, trials, trial, **info):
        if not self.marker.exists():
            self.marker.write_text("sent\n")
            os.kill(os.getpid(), signal.SIGTERM)


def _interrupted(seed_dict: dict, storage: str, marker: Path) -> Path:
    exp = _exp(seed_dict, storage, search={"strategy": "random", "num_samples": 4, "seed": 3},
               resources={"cpus_per_trial": 1},
               model={"name": "autolearn.testing.faults:faulty_mlp", "fault": "slow", "seconds": 0.5})
    with pytest.raises(SweepInterrupted) as stopped:
        run_experiment(exp, callbacks=[SigtermAfterFirstTrial(marker)])
    assert stopped.value.exit_code == 143
    folder = Path(stopped.value.experiment_dir)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["complete"] is False and summary["status_counts"]["finished"] >= 1
    return folder


@pytest.mark.parametrize("how", ["moved-folder", "file-uri"])
def test_an_interrupted_sweep_resumes_from_a_moved_folder_or_a_file_uri(seed_dict, storage, tmp_path, how):
    folder = _interrupted(seed_dict, storage, tmp_path / "sigterm-sent")
    if how == "moved-folder":
        target = tmp_path / "elsewhere" / "rel"
        shutil.move(str(folder), str(target))
        where: str = str(target)
    else:
        target, where = folder, folder.as_uri()
    result = resume_experiment(where)
    rows = _rows(target)
    assert len(rows) == 4 and len({r["trial_id"] for r in rows}) == 4
    assert all(r["status"] == "finished" for r in rows), rows
    assert Path(result.experiment_dir) == target
    runs = [p for p in (target / "tensorboard").iterdir() if p.is_dir()]
    assert len(runs) == 4  # the resumed trials' runs were written where the folder is now
    assert not folder.exists() or how == "file-uri"


@pytest.mark.parametrize("state", ["experiment_state-*.json", "basic-variant-state-*.json"])
def test_a_damaged_ray_or_searcher_state_is_a_clear_error(seed_dict, storage, tmp_path, state):
    """Left to Ray, a damaged state is logged and the whole sweep starts again in the same folder."""
    folder = _interrupted(seed_dict, storage, tmp_path / "sigterm-sent")
    for file in folder.glob(state):
        file.write_text("{ damaged")
    trials = sorted(p.name for p in folder.glob("train_trial_*"))
    with pytest.raises(SweepError, match="saved state .* is damaged"):
        resume_experiment(folder)
    assert sorted(p.name for p in folder.glob("train_trial_*")) == trials  # nothing ran again

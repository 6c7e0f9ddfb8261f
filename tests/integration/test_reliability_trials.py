"""Trials' ends: a user trainable that never reports the spec's metric ends the sweep at its first
report, in one ConfigError naming what it did report (in process, on the shared Ray); a trial that
ended just before the driver was SIGKILLed is recorded as ended in Ray's saved state (a subprocess)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_faults import _kill_ray, tmpdir_for_ray

from autolearn import Experiment, run_experiment
from autolearn.errors import ConfigError

__all__ = ["tmpdir_for_ray"]  # the fixture, imported for this module's tests


@pytest.mark.slow
@pytest.mark.usefixtures("ray_session")
def test_a_user_trainable_without_the_metric_ends_the_sweep_at_its_first_report(storage):
    exp = Experiment.from_dict({
        "name": "nometric", "storage": storage,
        "task": {"trainable": "reliability_models:reports_no_val_accuracy"},
        "space": {"x": {"type": "float", "low": 0.1, "high": 1.0}},
        "search": {"strategy": "random", "num_samples": 6, "seed": 0},
        "metric": {"name": "val_accuracy", "mode": "max"}, "resources": {"cpus_per_trial": 1},
    })
    with pytest.raises(ConfigError) as err:
        run_experiment(exp)
    message = str(err.value)
    assert message.startswith("metric.name: 'val_accuracy' is not among the metrics that task.trainable "
                              "'reliability_models:reports_no_val_accuracy' reported")
    assert "had 'acc', 'loss')" in message and "\n" not in message
    # Stopped there: only the trials already running (2 CPUs, one each) reported anything.
    reported = [p for p in Path(storage, "nometric").glob("reports_no_val_accuracy_*/result.json")
                if p.read_text().strip()]
    assert 1 <= len(reported) <= 2
    assert all(len(p.read_text().splitlines()) <= 3 for p in reported)
    assert not (Path(storage, "nometric") / "summary.json").exists()  # no table of trials without the metric


KILL_AFTER_FIRST_END = """
import json, os, pathlib, signal, sys
from ray.tune import Callback
from autolearn import Experiment, run_experiment

class KillAfterFirstEnd(Callback):
    '''SIGKILLs this driver at the end of the first step in which a trial ended (after autolearn's
    own callbacks, which run first), as a crash at the worst moment would.'''
    def on_step_end(self, iteration, trials, **info):
        ended = [t.trial_id for t in trials if t.status == "TERMINATED"]
        if ended:
            pathlib.Path(sys.argv[2]).write_text(ended[0])
            os.kill(os.getpid(), signal.SIGKILL)

run_experiment(Experiment.from_dict(json.loads(sys.argv[1])), callbacks=[KillAfterFirstEnd()])
"""


@pytest.mark.slow
def test_a_trial_that_ended_just_before_a_driver_kill_is_recorded_as_ended(storage, tmp_path, tmpdir_for_ray,
                                                                          seed_dict):
    """Ray's own snapshots are made rare here (TUNE_GLOBAL_CHECKPOINT_S): only the save when a trial
    ends can have recorded it, and a resume would otherwise run it again."""
    from ray.tune import ExperimentAnalysis

    spec = {**seed_dict, "name": "ended", "storage": storage,
            "task": {"dataset": {"name": "synthetic_classification", "n_samples": 120, "n_features": 4}},
            "train": {**seed_dict["train"], "epochs": 2}, "space": {"lr": {"type": "float", "low": 0.01, "high": 0.1}},
            "search": {"strategy": "random", "num_samples": 3, "seed": 0}, "resources": {"cpus_per_trial": 1}}
    env = {**os.environ, "RAY_TMPDIR": tmpdir_for_ray, "TUNE_GLOBAL_CHECKPOINT_S": "3600"}
    env.pop("RAY_ADDRESS", None)
    marker = tmp_path / "ended"
    try:
        driver = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST_END, json.dumps(spec), str(marker)],
                                env=env, capture_output=True, text=True, timeout=400)
    finally:
        _kill_ray(tmpdir_for_ray)
    assert driver.returncode == -signal.SIGKILL, driver.stdout + driver.stderr
    status = {t.trial_id: t.status for t in ExperimentAnalysis(str(Path(storage) / "ended")).trials}
    assert status[marker.read_text()] == "TERMINATED", status

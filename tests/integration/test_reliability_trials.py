"""In-process sweeps on the shared Ray: a user trainable that never reports the spec's metric ends
the sweep at its first report, in one ConfigError naming what it did report."""
from __future__ import annotations

from pathlib import Path

import pytest

from autolearn import Experiment, run_experiment
from autolearn.errors import ConfigError

pytestmark = pytest.mark.usefixtures("ray_session")


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

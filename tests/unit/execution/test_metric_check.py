"""The metric check of user trainables (`execution/metric_check.py`), driven by hand like Ray does."""
from __future__ import annotations

import pytest

from autolearn.errors import ConfigError
from autolearn.execution.metric_check import MetricCheck, find_metric_check, has_metric, reported_keys

RAY_FILLED = {"training_iteration": 1, "time_total_s": 0.1, "timestamp": 1, "done": False, "trial_id": "a_00001",
              "pid": 7, "hostname": "h", "node_ip": "1.2.3.4", "date": "d", "config": {"x": 1},
              "time_this_iter_s": 0.1, "time_since_restore": 0.1, "iterations_since_restore": 1,
              "checkpoint_dir_name": None}


def test_a_report_without_the_metric_stops_the_sweep_naming_what_came():
    check = MetricCheck("val_accuracy", "task.trainable 'pkg:fn'")
    assert not check({"trial_id": "a_00000"}, {**RAY_FILLED, "val_accuracy": 0.9})
    assert not check.stop_all()
    assert check("a_00001", {**RAY_FILLED, "loss": 0.3, "acc": 0.5})
    assert check.stop_all() and check("a_00002", {**RAY_FILLED, "val_accuracy": 0.9})  # every trial now
    with pytest.raises(ConfigError) as err:
        check.raise_if_missing()
    message = str(err.value)
    assert message.startswith("metric.name: 'val_accuracy' is not among the metrics that task.trainable "
                              "'pkg:fn' reported (a report of trial a_00001 had 'acc', 'loss')")
    assert "\n" not in message and "training_iteration" not in message


def test_a_trainable_that_returns_without_reporting_passes():
    check = MetricCheck("val_accuracy", "fn")
    assert not check("a_00000", {**RAY_FILLED, "done": True})
    check.raise_if_missing()


def test_nested_metrics_and_ray_keys():
    assert has_metric({"val": {"loss": 1.0}}, "val/loss") and has_metric({"val/loss": 1.0}, "val/loss")
    assert not has_metric({"val": {"acc": 1.0}}, "val/loss") and not has_metric({"val": 1.0}, "val/loss")
    assert reported_keys({**RAY_FILLED, "b": 1, "a": 2}) == ["a", "b"]
    check = MetricCheck("m", "fn")
    assert find_metric_check([object(), check]) is check and find_metric_check(check) is check
    assert find_metric_check(None) is None

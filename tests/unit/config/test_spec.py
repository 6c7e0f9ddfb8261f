"""Spec validation: every mistake fails at load time, naming the field path, the value, what is allowed."""
from __future__ import annotations

import copy

import pytest

from autolearn.config.spec import Experiment, load_spec
from autolearn.errors import ConfigError


def _with(base: dict, dotted: str, value) -> dict:
    data = copy.deepcopy(base)
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    if value is _DELETE:
        node.pop(last, None)
    else:
        node[last] = value
    return data


_DELETE = object()


@pytest.mark.parametrize("field, value, path, words", [
    ("colour", "red", "colour", "unknown key"),
    ("task.datset", {}, "task.datset", "unknown key"),
    ("train.epoch", 3, "train.epoch", "unknown key"),
    ("train.epochs", "ten", "train.epochs", "expected a number"),
    ("train.epochs", 0, "train.epochs", "must be >= 1"),
    ("train.lr", -0.1, "train.lr", "must be > 0"),
    ("train.optimizer", "adamax", "train.optimizer", "unknown optimizer 'adamax'"),
    ("train.lr_schedule", "linear", "train.lr_schedule", "unknown lr schedule"),
    ("space.lr.low", 0.5, "space.lr.low", "`low` must be <= `high`"),
    ("space.lr.low", 0, "space.lr.low", "log-scaled range needs low > 0"),
    ("space.batch_size.values", [], "space.batch_size.values", "at least one value"),
    ("space.widht", {"type": "int", "low": 1, "high": 4}, "space.widht", "no model or train field is named 'widht'"),
    ("space.epochs", {"type": "int", "low": 1, "high": 4}, "space.epochs", "budget"),
    ("space.optimizer.values", ["sgd", "lbfgs"], "space.optimizer.values", "unknown optimizer 'lbfgs'"),
    ("space.lr", {"type": "float", "low": -1, "high": 0.1}, "space.lr.low", "must be > 0"),
    ("task.dataset.name", "imagenet", "task.dataset.name", "unknown dataset 'imagenet'"),
    ("task.dataset.n_sample", 10, "task.dataset.n_sample", "unknown key"),
    ("model.name", "resnet", "model.name", "unknown model 'resnet'"),
    ("model.width", 3, "model.width", "unknown key"),
    ("search.strategy", "annealing", "search.strategy", "unknown strategy 'annealing'"),
    ("search.num_samples", 0, "search.num_samples", "must be >= 1"),
    ("search.temperature", 3, "search.temperature", "unknown option"),
    ("scheduler.name", "pbt2", "scheduler.name", "unknown scheduler 'pbt2'"),
    ("scheduler.grace_period", 50, "scheduler.grace_period", "larger than"),
    ("metric.mode", "maximise", "metric.mode", "unknown mode"),
    ("metric.name", "f1", "metric.name", "reports"),
    ("resources.gpus_per_trial", 1.5, "resources.gpus_per_trial", "whole number"),
    ("resources.cpus_per_trial", 0, "resources.cpus_per_trial", "must be > 0"),
    ("task.split.test", 1.5, "task.split.test", "must be <= 1.0"),
    ("name", "my sweep!", "name", "folder name"),
])
def test_bad_spec_names_the_field(seed_dict, field, value, path, words):
    data = _with(seed_dict, field, value)
    if field.startswith("scheduler.grace"):
        data["scheduler"]["name"] = "asha"
    with pytest.raises(ConfigError) as err:
        Experiment.from_dict(data)
    assert err.value.path == path, str(err.value)
    assert words in str(err.value)


def test_grid_over_a_continuous_range_is_rejected(seed_dict):
    data = _with(seed_dict, "search.strategy", "grid")
    with pytest.raises(ConfigError) as err:
        Experiment.from_dict(data)
    assert err.value.path == "space.lr"
    assert "give it `step`" in str(err.value)


def test_missing_csv_and_missing_target_column(tmp_path, seed_dict):
    data = _with(seed_dict, "task.dataset", {"name": "csv", "path": str(tmp_path / "nope.csv"), "target": "y"})
    with pytest.raises(ConfigError) as err:
        Experiment.from_dict(data)
    assert err.value.path == "task.dataset.path" and "no CSV file" in str(err.value)

    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n1,2,0\n3,4,1\n")
    data["task"]["dataset"]["path"] = str(table)
    with pytest.raises(ConfigError) as err:
        Experiment.from_dict(data)
    assert err.value.path == "task.dataset.target" and "columns: a, b, label" in str(err.value)


def test_the_seed_spec_loads_and_round_trips(seed_dict):
    exp = Experiment.from_dict(seed_dict)
    assert exp.search.strategy == "random" and exp.search.num_samples == 10
    assert list(exp.space) == ["lr", "batch_size", "hidden_units", "optimizer"]
    assert Experiment.from_dict(exp.to_dict()) == exp


def test_yaml_numbers_without_a_dot(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: t\ntrain: {lr: 1e-3}\nspace:\n  lr: {type: float, low: 1e-5, high: 1e-1, log: true}\n")
    exp = load_spec(spec)
    assert exp.train.lr == 1e-3 and exp.space["lr"].low == 1e-5


def test_malformed_yaml_names_the_line(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: t\nspace: {lr: [1, 2\n")
    with pytest.raises(ConfigError) as err:
        load_spec(spec)
    assert "not valid YAML" in str(err.value) and "line" in str(err.value)


def test_python_construction_with_callables():
    import torch

    def build(n_features, n_outputs, width=8):
        return torch.nn.Linear(n_features, n_outputs)

    exp = Experiment(name="py", model={"name": build, "width": 4},
                     space={"width": {"type": "int", "low": 2, "high": 8}})
    assert exp.model.params == {"width": 4}
    with pytest.raises(ConfigError) as err:
        Experiment(name="py", model={"name": build}, space={"depth": {"type": "int", "low": 2, "high": 8}})
    assert err.value.path == "space.depth"


def test_user_trainable_needs_a_metric_and_no_model():
    with pytest.raises(ConfigError) as err:
        Experiment(task={"trainable": "math:sqrt"})
    assert err.value.path == "metric"
    with pytest.raises(ConfigError) as err:
        Experiment(task={"trainable": "math:sqrt"}, metric={"name": "score"}, model={"name": "mlp"})
    assert err.value.path == "model"
    with pytest.raises(ConfigError) as err:
        Experiment(task={"trainable": "nosuchmodule.sub:fn"}, metric={"name": "score"})
    assert err.value.path == "task.trainable" and "cannot import" in str(err.value)

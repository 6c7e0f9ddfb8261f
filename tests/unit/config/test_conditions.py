"""`when:` conditions: load-time errors (one line, naming the field), dict round-trips, pruning."""
from __future__ import annotations

import pytest

from autolearn.config.conditions import active_combinations, resolve
from autolearn.config.space import ChoiceParam, FloatParam, SearchSpace
from autolearn.errors import ConfigError

OPT = {"type": "choice", "values": ["sgd", "momentum", "adam"]}
MOMENTUM = {"type": "float", "low": 0.5, "high": 0.99}


@pytest.mark.parametrize("space, path, words", [
    ({"m": {**MOMENTUM, "when": {"optimiser": ["momentum"]}}, "optimizer": OPT}, "space.m.when.optimiser",
     "unknown parent parameter 'optimiser'"),
    ({"m": {**MOMENTUM, "when": {"optimizer": ["nesterov"]}}, "optimizer": OPT}, "space.m.when.optimizer",
     "'nesterov' is not a value of 'optimizer'; allowed: ['sgd', 'momentum', 'adam']"),
    ({"optimizer": {**OPT, "when": {"optimizer": ["sgd"]}}}, "space.optimizer.when.optimizer",
     "cannot be conditional on itself"),
    ({"a": {"type": "choice", "values": [1, 2], "when": {"b": [1]}},
      "b": {"type": "choice", "values": [1, 2], "when": {"c": [2]}},
      "c": {"type": "choice", "values": [1, 2], "when": {"a": [1]}}}, "space.a.when",
     "conditions form a cycle: a -> b -> c -> a"),
    ({"m": {**MOMENTUM, "when": {"lr": [0.1]}}, "lr": {"type": "float", "low": 0.01, "high": 1}}, "space.m.when.lr",
     "must be a choice or grid parameter"),
    ({"m": {**MOMENTUM, "when": {"optimizer": []}}, "optimizer": OPT}, "space.m.when.optimizer", "empty list"),
    ({"m": {**MOMENTUM, "when": ["optimizer"]}, "optimizer": OPT}, "space.m.when", "expected a mapping"),
    ({"m": {**MOMENTUM, "when": {"flag": [1]}}, "flag": {"type": "choice", "values": [True, False]}},
     "space.m.when.flag", "1 is not a value of 'flag'"),  # the choice True is not the number 1
])
def test_bad_conditions_name_the_field(space: dict, path: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        SearchSpace.from_dict(space)
    assert err.value.path == path and words in str(err.value)
    assert "\n" not in str(err.value)


def test_the_python_api_checks_conditions_too() -> None:
    with pytest.raises(ConfigError, match="space.m.when.x"):
        SearchSpace({"m": FloatParam(0.5, 0.9)}, {"m": {"x": ["a"]}})
    with pytest.raises(ConfigError, match="space.ghost"):
        SearchSpace({"m": FloatParam(0.5, 0.9)}, {"ghost": {"m": [1]}})


def test_round_trip_and_equality() -> None:
    data = {"optimizer": OPT, "m": {**MOMENTUM, "when": {"optimizer": "momentum"}}}
    space = SearchSpace.from_dict(data)
    assert space.to_dict()["m"]["when"] == {"optimizer": ["momentum"]}  # a single value reads as a list
    assert SearchSpace.from_dict(space.to_dict()) == space
    assert space != SearchSpace.from_dict({"optimizer": OPT, "m": MOMENTUM})
    assert SearchSpace.from_dict(space) is space  # an Experiment given a SearchSpace keeps its conditions
    narrowed = space.with_params({**dict(space), "m": FloatParam(0.6, 0.9)})
    assert narrowed.conditions == space.conditions and narrowed["m"] == FloatParam(0.6, 0.9)


def test_an_experiment_keeps_its_conditions(seed_dict) -> None:
    from autolearn.config.spec import Experiment

    data = {**seed_dict, "space": {"optimizer": OPT, "momentum": {**MOMENTUM, "when": {"optimizer": ["momentum"]}},
                                   "lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}}
    exp = Experiment.from_dict(data)
    assert exp.space.conditions["momentum"].to_dict() == {"optimizer": ["momentum"]}
    assert Experiment.from_dict(exp.to_dict()) == exp


def test_prune_and_contains_follow_nested_conditions() -> None:
    space = SearchSpace.from_dict({
        "optimizer": OPT, "m": {**MOMENTUM, "when": {"optimizer": ["momentum"]}},
        "nesterov": {"type": "choice", "values": [True, False], "when": {"optimizer": ["momentum"]}},
        "d": {"type": "float", "low": 0, "high": 0.5, "when": {"nesterov": [False], "optimizer": ["momentum"]}}})
    full = {"optimizer": "momentum", "m": 0.9, "nesterov": False, "d": 0.1}
    assert space.prune(full) == full and space.contains(full)
    assert space.prune({**full, "optimizer": "sgd"}) == {"optimizer": "sgd"}
    assert space.prune({**full, "nesterov": True}) == {"optimizer": "momentum", "m": 0.9, "nesterov": True}
    assert space.prune({**full, "other": 1}) == {**full, "other": 1}  # keys outside the space are kept
    assert not space.contains({**full, "optimizer": "sgd"})  # m is inactive but present
    assert not space.contains({"optimizer": "momentum", "nesterov": True})  # m is active but missing
    assert space.contains({"optimizer": "adam"})


def test_active_combinations_and_resolve() -> None:
    conditions = SearchSpace.from_dict({
        "model": {"type": "grid", "values": ["mlp", "cnn"]},
        "kernel": {"type": "grid", "values": [3, 5], "when": {"model": "cnn"}},
        "dilation": {"type": "choice", "values": [1, 2], "when": {"kernel": [5]}},
        "lr": {"type": "float", "low": 0.01, "high": 0.1}}).conditions
    values = {"model": ["mlp", "cnn"], "kernel": [3, 5], "dilation": [1, 2]}
    assert active_combinations(values, conditions) == [
        {"model": "mlp"}, {"model": "cnn", "kernel": 3}, {"model": "cnn", "kernel": 5, "dilation": 1},
        {"model": "cnn", "kernel": 5, "dilation": 2}]
    names = ["model", "kernel", "dilation", "lr"]
    assert resolve(names, conditions, {"model": "mlp"}, ["model", "kernel"]) == (["lr"], {})
    assert resolve(names, conditions, {"model": "cnn", "kernel": 5}, ["model", "kernel"]) == (["dilation", "lr"], {})
    kept, rest = resolve(names, conditions, {"model": "cnn"}, ["model"])
    assert kept == ["kernel", "dilation", "lr"] and rest == {"dilation": conditions["dilation"]}


def test_a_choice_parent_may_hold_any_value_type() -> None:
    space = SearchSpace({"flag": ChoiceParam((True, False)), "x": FloatParam(0, 1)}, {"x": {"flag": True}})
    assert space.prune({"flag": False, "x": 0.5}) == {"flag": False}
    assert space.prune({"flag": True, "x": 0.5}) == {"flag": True, "x": 0.5}


def test_the_builtin_loop_fills_an_inactive_parameter_from_the_spec() -> None:
    """An inactive parameter is absent from the config; the loop's settings then hold train's value
    (and a model argument its `model:` value), as for any key the space does not search."""
    from types import SimpleNamespace

    from autolearn.config.sections import ModelSpec, TrainSpec
    from autolearn.training.loop import split_config

    job = SimpleNamespace(train=TrainSpec(momentum=0.8), model=ModelSpec(params={"hidden_units": 32, "dropout": 0.1}))
    settings, model = split_config(job, {"optimizer": "sgd", "lr": 0.01})  # type: ignore[arg-type]
    assert settings.optimizer == "sgd" and settings.momentum == 0.8 and model["dropout"] == 0.1
    settings, model = split_config(job, {"optimizer": "momentum", "momentum": 0.95, "dropout": 0.3})  # type: ignore[arg-type]
    assert settings.momentum == 0.95 and model["dropout"] == 0.3

"""The search-space language: validation messages, dict round-trips, Ray Tune conversion."""
from __future__ import annotations

import numpy as np
import pytest

from autolearn.config.space import ChoiceParam, FloatParam, GridParam, IntParam, SearchSpace, param_from_dict
from autolearn.errors import ConfigError


@pytest.mark.parametrize("spec, path, words", [
    ({"type": "float", "low": 3, "high": 1}, "space.x.low", "`low` must be <= `high`"),
    ({"type": "float", "low": 0, "high": 1, "log": True}, "space.x.low", "log-scaled range needs low > 0"),
    ({"type": "int", "low": -1, "high": 5, "log": True}, "space.x.low", "low > 0"),
    ({"type": "choice", "values": []}, "space.x.values", "at least one value"),
    ({"type": "grid", "values": [1, 1]}, "space.x.values", "values repeat"),
    ({"type": "float", "low": 0, "high": 1, "step": 0}, "space.x.step", "step must be > 0"),
    ({"type": "int", "low": 0.5, "high": 3}, "space.x.low", "expected an integer"),
    ({"type": "float", "low": "abc", "high": 3}, "space.x.low", "expected a number"),
    ({"type": "float", "high": 3}, "space.x.low", "needs `low`"),
    ({"type": "normal", "low": 0, "high": 1}, "space.x.type", "unknown parameter type"),
    ({"type": "float", "low": 0, "high": 1, "scale": 2}, "space.x.scale", "unknown key"),
    ({"type": "float", "low": 0, "high": 1, "log": "yes"}, "space.x.log", "true or false"),
    ({"type": "choice", "values": "abc"}, "space.x.values", "list of values"),
    (5, "space.x", "expected a mapping"),
])
def test_bad_parameters_name_the_field(spec, path, words):
    with pytest.raises(ConfigError) as err:
        SearchSpace.from_dict({"x": spec})
    assert err.value.path == path
    assert words in str(err.value)
    assert str(err.value).startswith(path + ":")


def test_yaml_style_numbers_are_numbers():
    p = param_from_dict({"type": "float", "low": "1e-4", "high": "1e-1", "log": True}, "space.lr")
    assert p == FloatParam(1e-4, 1e-1, log=True)


@pytest.mark.parametrize("param", [
    FloatParam(1e-4, 1e-1, log=True), FloatParam(0.0, 1.0, step=0.25), IntParam(16, 256, log=True),
    IntParam(1, 9, step=2), ChoiceParam(("sgd", "adam")), GridParam((1, 2, 3)),
])
def test_dict_round_trip(param):
    assert param_from_dict(param.to_dict(), "space.p") == param


@pytest.mark.parametrize("param", [
    FloatParam(1e-4, 1e-1, log=True), FloatParam(-2.0, 3.0), FloatParam(0.0, 1.0, step=0.25),
    IntParam(16, 256, log=True), IntParam(0, 3), IntParam(1, 9, step=2), ChoiceParam(("a", "b", "c")),
])
def test_ray_domains_sample_inside_the_declared_bounds(param):
    domain = param.to_tune()
    rng = np.random.default_rng(0)
    draws = domain.sample(size=300, random_state=rng)
    assert all(param.contains(v) for v in draws), [v for v in draws if not param.contains(v)][:5]


def test_int_bounds_are_inclusive_unlike_ray_randint():
    draws = IntParam(0, 3).to_tune().sample(size=400, random_state=np.random.default_rng(1))
    assert set(draws) == {0, 1, 2, 3}


def test_grid_values_enumerate_finite_parameters():
    assert FloatParam(0.0, 1.0, step=0.25).grid_values() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert IntParam(1, 9, step=4).grid_values() == [1, 5, 9]
    assert FloatParam(0.0, 1.0).grid_values() is None
    space = SearchSpace.from_dict({"a": {"type": "grid", "values": [1, 2]}, "b": {"type": "grid", "values": [3, 4, 5]},
                                   "c": {"type": "choice", "values": [1, 2]}})
    assert space.grid_size() == 6


def test_space_contains_and_round_trip():
    data = {"lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
            "opt": {"type": "choice", "values": ["sgd", "adam"]}}
    space = SearchSpace.from_dict(data)
    assert SearchSpace.from_dict(space.to_dict()) == space
    assert space.contains({"lr": 0.01, "opt": "adam"})
    assert not space.contains({"lr": 0.5, "opt": "adam"})
    assert not space.contains({"lr": 0.01})

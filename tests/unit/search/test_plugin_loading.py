"""Strategies and schedulers by import path (`search.strategy: mypkg.search:MyStrategy`,
`scheduler: {name: mypkg.sched:factory, ...}`): resolved and checked when the spec loads, with a
one-line error for each way a path can be wrong. No Ray is started (the helpers are in
tests/custom_plugins.py)."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from autolearn.config.defaults import seed_spec
from autolearn.config.spec import Experiment
from autolearn.errors import ConfigError
from autolearn.search import SearchRequest, get_strategy, make_scheduler


def _load(search: dict[str, Any] | None = None, scheduler: dict[str, Any] | None = None) -> Experiment:
    data = copy.deepcopy(seed_spec())
    if search is not None:
        data["search"] = search
    if scheduler is not None:
        data["scheduler"] = scheduler
    return Experiment.from_dict(data)


def _configs(plan: Any) -> list[dict[str, Any]]:
    from ray.tune.experiment import Experiment as RayExperiment

    plan.search_alg.add_configurations([RayExperiment("t", lambda config: None, config=plan.param_space,
                                                      num_samples=plan.num_samples)])
    configs = []
    while (trial := plan.search_alg.next_trial()) is not None:
        configs.append(trial.config)
    return configs


@pytest.mark.parametrize("path", ["custom_plugins:DiagonalSearch", "custom_plugins.DiagonalSearch",
                                  "custom_plugins:diagonal_factory"])
def test_a_strategy_by_import_path_runs_with_its_own_options(path: str) -> None:
    import custom_plugins

    exp = _load({"strategy": path, "num_samples": 3, "offset": 0.25})
    strategy = get_strategy(exp.search.strategy)
    assert isinstance(strategy, custom_plugins.DiagonalSearch) and strategy.name == "diagonal"
    request = SearchRequest.from_experiment(exp)
    configs = _configs(strategy.build(request))
    assert configs == custom_plugins.DiagonalSearch.configs(request) and len(configs) == 3
    assert configs[0]["lr"] < configs[1]["lr"] < configs[2]["lr"] and all(exp.space.contains(c) for c in configs)


def test_num_samples_defaults_stay_as_they_were() -> None:
    assert _load({"strategy": "custom_plugins:DiagonalSearch"}).search.num_samples == 10
    data = copy.deepcopy(seed_spec())
    data["space"] = {"batch_size": {"type": "choice", "values": [16, 32]}}
    data["search"] = {"strategy": "grid"}
    assert Experiment.from_dict(data).search.num_samples == 1


@pytest.mark.parametrize("search, path, text", [
    ({"strategy": "custom_plugins:DiagonalSearch", "speed": 2}, "search.speed",
     "unknown option for strategy 'diagonal'; allowed: 'offset'"),
    ({"strategy": "custom_plugins:NotAStrategy"}, "search.strategy",
     "'custom_plugins:NotAStrategy' is not a Strategy subclass; subclass autolearn.search.Strategy"),
    ({"strategy": "custom_plugins:not_a_strategy_factory"}, "search.strategy",
     "'custom_plugins:not_a_strategy_factory' returned a NotAStrategy, not a Strategy"),
    ({"strategy": "autolearn.search:Strategy"}, "search.strategy", "is abstract: it does not define build"),
    ({"strategy": "custom_plugins:NeedsArguments"}, "search.strategy",
     "is called without arguments, but it requires 'width'"),
    ({"strategy": "custom_plugins:Missing"}, "search.strategy", "module 'custom_plugins' has no attribute 'Missing'"),
    ({"strategy": "no_such_package.search:Mine"}, "search.strategy", "cannot import module 'no_such_package.search'"),
    ({"strategy": "anneal"}, "search.strategy",
     "unknown strategy 'anneal'; allowed: 'bohb', 'gp', 'grid', 'motpe', 'nsga2', 'random', 'tpe'"),
])
def test_a_bad_strategy_path_fails_at_load_time_in_one_line(search: dict, path: str, text: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(search)
    assert err.value.path == path and text in str(err.value) and "\n" not in str(err.value)


def test_a_scheduler_factory_by_import_path_gets_max_t_from_the_epochs() -> None:
    exp = _load(scheduler={"name": "custom_plugins:stop_at", "at": 2})
    scheduler = make_scheduler(exp.scheduler.name, exp.scheduler.options, exp.max_epochs)
    assert (scheduler.max_t, scheduler.at) == (exp.max_epochs, 2)
    given = make_scheduler("custom_plugins:stop_at", {"max_t": 4}, exp.max_epochs)
    assert (given.max_t, given.at) == (4, 1)


@pytest.mark.parametrize("scheduler, path, text", [
    ({"name": "custom_plugins:stop_at", "speed": 2}, "scheduler.speed",
     "unknown key for scheduler 'custom_plugins:stop_at'; allowed: 'at', 'max_t'"),
    ({"name": "custom_plugins:nowhere"}, "scheduler.name", "module 'custom_plugins' has no attribute 'nowhere'"),
    ({"name": "no_such_package.sched:make"}, "scheduler.name", "cannot import module 'no_such_package.sched'"),
    ({"name": "pbt2"}, "scheduler.name", "unknown scheduler 'pbt2'; allowed: 'asha', 'fifo', 'hyperband', 'median'"),
])
def test_a_bad_scheduler_path_fails_at_load_time_in_one_line(scheduler: dict, path: str, text: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(scheduler=scheduler)
    assert err.value.path == path and text in str(err.value) and "\n" not in str(err.value)


def test_a_factory_that_returns_no_scheduler_is_named() -> None:
    exp = _load(scheduler={"name": "custom_plugins:not_a_scheduler"})  # its signature is fine
    with pytest.raises(ConfigError, match=r"^scheduler.name: scheduler 'custom_plugins:not_a_scheduler' returned "
                                          r"a dict, not a Ray Tune TrialScheduler$"):
        make_scheduler(exp.scheduler.name, exp.scheduler.options, exp.max_epochs)

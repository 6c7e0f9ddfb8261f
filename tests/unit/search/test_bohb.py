"""bohb's searcher driven by hand (no Ray running): it learns from intermediate results at every
rung, beats random search under the same early stopping on a toy landscape with a known optimum,
restores to exactly the suggestions of an uninterrupted run, and its pairings are checked at load."""
from __future__ import annotations

import copy
import math
import statistics
from typing import Any

import pytest

from autolearn.config.defaults import seed_spec
from autolearn.config.space import SearchSpace
from autolearn.config.spec import Experiment
from autolearn.errors import ConfigError
from autolearn.search.strategies import make_search
from autolearn.search.strategies.bohb_searcher import BOHBSearcher

OPTIMUM = (0.7, 0.2, 0.45, 0.9)
SPACE = SearchSpace.from_dict({
    **{f"x{i}": {"type": "float", "low": 0.0, "high": 1.0} for i in range(len(OPTIMUM))},
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "units": {"type": "int", "low": 1, "high": 8},
    "act": {"type": "choice", "values": ["relu", "tanh", "gelu"]},
})
RUNGS, MAX_T = (1, 3, 9), 9


def quality(c: dict[str, Any]) -> float:
    """1 at the known optimum (x = OPTIMUM, lr = 10**-2.5, units = 6, act = 'gelu'), lower elsewhere."""
    return (1.0 - sum((c[f"x{i}"] - o) ** 2 for i, o in enumerate(OPTIMUM)) - (math.log10(c["lr"]) + 2.5) ** 2 / 4
            - ((c["units"] - 6) / 8) ** 2 - (0.0 if c["act"] == "gelu" else 0.3))


def curve(c: dict[str, Any], epoch: int) -> float:
    """A learning curve that rises towards `quality`, slower for a small lr: early ranks are noisy."""
    speed = 0.3 + min(max(math.log10(c["lr"]) + 4, 0.0), 3.0) / 3
    return quality(c) - 0.8 * math.exp(-speed * epoch)


def asha(searcher: BOHBSearcher, budget_epochs: int) -> float:
    """Trials one after another under ASHA's rule (continue at a rung only when in the top third
    seen there), until `budget_epochs` are spent; the best full-budget score found."""
    searcher.set_search_properties("score", "max", {})
    at_rung: dict[int, list[float]] = {r: [] for r in RUNGS}
    spent, best, i = 0, -math.inf, 0
    while spent < budget_epochs:
        config, trial = searcher.suggest(f"t{i}"), f"t{i}"
        i += 1
        for epoch in range(1, MAX_T + 1):
            score, spent = curve(config, epoch), spent + 1
            result = {"score": score, "training_iteration": epoch}
            searcher.on_trial_result(trial, result)
            if epoch in at_rung:
                at_rung[epoch].append(score)
                cut = sorted(at_rung[epoch], reverse=True)[max(len(at_rung[epoch]) // 3 - 1, 0)]
                if epoch < MAX_T and score < cut:
                    break
        if epoch == MAX_T:
            best = max(best, quality(config))
        searcher.on_trial_complete(trial, result)
    return 1.0 - best


def test_learns_from_rungs_and_beats_random_under_the_same_early_stopping() -> None:
    regrets: dict[str, list[float]] = {"bohb": [], "random": []}
    for seed in range(5):
        regrets["bohb"].append(asha(BOHBSearcher(SPACE, seed=seed), 400))
        regrets["random"].append(asha(BOHBSearcher(SPACE, seed=seed, random_fraction=0.0, min_points=10**6), 400))
    bohb, rand = statistics.median(regrets["bohb"]), statistics.median(regrets["random"])
    assert bohb * 2 < rand, regrets
    assert sum(b < r for b, r in zip(regrets["bohb"], regrets["random"])) >= 4, regrets


def test_intermediate_results_are_modelled_before_any_trial_completes() -> None:
    searcher = BOHBSearcher(SPACE, seed=0)
    searcher.set_search_properties("score", "max", {})
    for i in range(16):  # 2(d + 1) = 16 first-rung results, no trial finished
        config = searcher.suggest(f"t{i}")
        searcher.on_trial_result(f"t{i}", {"score": quality(config), "training_iteration": 1})
    assert searcher.model_budget() == 1
    for i in range(16):
        searcher.on_trial_result(f"t{i}", {"score": quality(config), "training_iteration": 3})
    assert searcher.model_budget() == 3  # the largest budget with enough observations


def test_failures_are_the_worst_at_their_budget() -> None:
    searcher = BOHBSearcher(SPACE, seed=0, min_points=2)
    searcher.set_search_properties("score", "min", {})
    searcher.suggest("a"), searcher.suggest("b"), searcher.suggest("c")
    searcher.on_trial_result("a", {"score": 1.0, "training_iteration": 1})
    searcher.on_trial_result("b", {"score": float("nan"), "training_iteration": 1})
    searcher.on_trial_complete("c", error=True)
    _, losses = searcher.observations(1)
    assert losses[0] == 1.0 and math.isinf(losses[1]) and math.isinf(losses[2])
    assert SPACE.contains(searcher.suggest("d"))


def test_restored_searcher_suggests_what_the_uninterrupted_one_would(tmp_path) -> None:
    first, second = BOHBSearcher(SPACE, seed=3, min_points=4), BOHBSearcher(SPACE, seed=99)
    path = str(tmp_path / "bohb.pkl")
    for alg in (first,):
        alg.set_search_properties("score", "max", {})

    def step(alg: BOHBSearcher, i: int) -> dict[str, Any]:
        config = alg.suggest(f"t{i}")
        for epoch in (1, 3):
            alg.on_trial_result(f"t{i}", {"score": curve(config, epoch), "training_iteration": epoch})
        return config

    for i in range(8):
        step(first, i)
    first.save(path)
    second.restore(path)
    went_on = [step(first, i) for i in range(8, 20)]
    restored = [step(second, i) for i in range(8, 20)]
    assert went_on == restored
    assert first.model_budget() == 3 and len({repr(sorted(c.items())) for c in went_on}) == 12


def test_points_to_evaluate_come_first_exactly_then_plain_values() -> None:
    point = {"x0": 0.123456789, "x1": 0.5, "x2": 0.25, "x3": 1.0, "lr": 3.3e-3, "units": 2, "act": "tanh"}
    plan = make_search("bohb", SPACE, "score", "max", 0, num_samples=4, points_to_evaluate=[point])
    plan.search_alg.set_search_properties("score", "max", {})
    assert plan.search_alg.suggest("t0") == point
    config = plan.search_alg.suggest("t1")
    assert SPACE.contains(config) and type(config["units"]) is int and type(config["x0"]) is float


def _load(strategy: str = "bohb", scheduler: Any = "asha", **search: Any) -> Experiment:
    data = copy.deepcopy(seed_spec())
    data["search"].update(strategy=strategy, **search)
    data["scheduler"] = scheduler
    return Experiment.from_dict(data)


@pytest.mark.parametrize("scheduler, text", [
    ("fifo", "'fifo' never stops a trial"), ({"name": "fifo"}, "use 'asha', 'hyperband', 'median'")])
def test_bohb_without_early_stopping_fails_at_load_time(scheduler: Any, text: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(scheduler=scheduler)
    assert err.value.path == "scheduler.name" and text in str(err.value)


@pytest.mark.parametrize("search, path, text", [
    ({"top_fraction": 1.0}, "search.top_fraction", "must be > 0 and < 1, got 1.0"),
    ({"random_fraction": -0.1}, "search.random_fraction", "must be >= 0 and < 1"),
    ({"min_points": 1}, "search.min_points", "must be >= 2"),
    ({"bandwidth_factor": 0}, "search.bandwidth_factor", "must be > 0"),
    ({"gamma": 0.2}, "search.gamma", "unknown option for strategy 'bohb'"),
])
def test_bad_bohb_options_fail_at_load_time(search: dict, path: str, text: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(**search)
    assert err.value.path == path and text in str(err.value)


@pytest.mark.parametrize("scheduler", ["asha", "hyperband", {"name": "median"}])
def test_bohb_loads_with_an_early_stopping_scheduler_and_a_choice_only_space(scheduler: Any) -> None:
    exp = _load(scheduler=scheduler)
    assert exp.search.strategy == "bohb"
    space = SearchSpace.from_dict({"act": {"type": "choice", "values": ["relu", "tanh", "gelu"]}})
    searcher = BOHBSearcher(space, "score", "max", seed=0, random_fraction=0.0)
    for i in range(12):
        config = searcher.suggest(f"t{i}")
        searcher.on_trial_result(f"t{i}", {"score": float(config["act"] == "gelu"), "training_iteration": 1})
    assert [searcher.suggest(f"n{i}")["act"] for i in range(10)].count("gelu") >= 7

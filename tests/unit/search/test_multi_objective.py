"""The multi-objective strategies (`motpe`, `nsga2` on Optuna) and constraint learning of every
model-based strategy, driven by hand without Ray (a searcher needs no running cluster)."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from autolearn.config import MetricSpec
from autolearn.config.objectives import ConstraintSpec
from autolearn.config.space import SearchSpace
from autolearn.results.pareto import front_indices
from autolearn.search.strategies import SearchRequest, get_strategy

SPACE = SearchSpace.from_dict({"x": {"type": "float", "low": 0.0, "high": 1.0},
                               "k": {"type": "int", "low": 1, "high": 8},
                               "c": {"type": "choice", "values": ["a", "b"]}})
TWO = (MetricSpec("acc", "max"), MetricSpec("size", "min"))


def _trade_off(config: dict[str, Any]) -> dict[str, float]:
    """A front on x: accuracy rises and size grows with x; k and c only add noise-free penalties."""
    x, k = config["x"], config["k"]
    return {"acc": x - 0.02 * abs(k - 4) - (0.05 if config["c"] == "b" else 0.0), "size": x ** 2 + 0.01 * k}


def _searcher(strategy: str, constraints: tuple = (), objectives: tuple = TWO, seed: int = 0, **options: Any):
    request = SearchRequest(space=SPACE, metric=objectives[0].name, mode=objectives[0].mode, num_samples=40,
                            seed=seed, objectives=objectives, constraints=constraints, options=options)
    chosen = get_strategy(strategy)
    chosen.check(request)
    alg = chosen.build(request).search_alg
    alg.set_search_properties(objectives[0].name, objectives[0].mode, {})
    return alg


def _run(alg, n: int, score=_trade_off) -> list[tuple[dict, dict]]:
    out = []
    for i in range(n):
        config = alg.suggest(f"t{i}")
        result = score(config)
        alg.on_trial_complete(f"t{i}", result)
        out.append((config, result))
    return out


@pytest.mark.parametrize("strategy", ["motpe", "nsga2"])
def test_multi_objective_search_stays_in_the_space_and_is_seeded(strategy):
    options = {"population_size": 4} if strategy == "nsga2" else {"n_initial_points": 4}
    first = _run(_searcher(strategy, **options), 12)
    assert all(SPACE.contains(c) for c, _ in first)
    assert [c for c, _ in _run(_searcher(strategy, **options), 12)] == [c for c, _ in first]


def test_motpe_saves_and_restores_its_study(tmp_path):
    alg = _searcher("motpe", n_initial_points=3)
    _run(alg, 6)
    pending = alg.suggest("p")
    alg.save(str(tmp_path / "s.pkl"))
    again = _searcher("motpe", n_initial_points=3)
    again.restore(str(tmp_path / "s.pkl"))
    again.on_trial_complete("p", _trade_off(pending))  # a trial that was running at the save is known
    assert len(again._study.trials) == 7 and SPACE.contains(again.suggest("next"))


def test_failed_and_diverged_trials_are_told_as_failures():
    alg = _searcher("motpe", n_initial_points=2)
    alg.suggest("err")
    alg.on_trial_complete("err", None, error=True)
    alg.suggest("div")
    alg.on_trial_complete("div", {"acc": float("nan"), "size": 1.0, "diverged": True})
    alg.suggest("missing")
    alg.on_trial_complete("missing", {"acc": 0.5})  # no `size`
    assert [t.state.name for t in alg._study.trials] == ["FAIL", "FAIL", "FAIL"]


def _feasible_share(strategy: str, constrained: bool) -> float:
    """The share of trials 21-40 inside `size <= 0.15` (about 36% of the space; accuracy pulls out)."""
    limit = (ConstraintSpec("size", max=0.15),) if constrained else ()
    late = [r for seed in (0, 1) for _, r in _run(_searcher(strategy, limit, seed=seed, n_initial_points=8), 40)[20:]]
    return sum(r["size"] <= 0.15 for r in late) / len(late)


@pytest.mark.parametrize("strategy", ["motpe", "tpe"])  # gp too (0.82 vs 0.20), but ~60 s
def test_model_based_strategies_learn_to_avoid_infeasible_regions(strategy):
    """Told of the constraint, each searcher samples the feasible region clearly more often than
    without it (measured: tpe 0.42 vs 0.15, gp 0.82 vs 0.20, motpe 0.72; random 0.30, 5 seeds)."""
    with_limit, without = _feasible_share(strategy, True), _feasible_share(strategy, False)
    assert with_limit >= without + 0.15, (with_limit, without)


def test_motpe_finds_a_better_front_than_its_random_start():
    """After its random start the front it reaches dominates more of the objective space."""
    found = _run(_searcher("motpe", n_initial_points=8), 30)
    points = [[r["acc"], r["size"]] for _, r in found]
    front = front_indices(points, ["max", "min"])
    assert any(i >= 8 for i in front)  # the model adds front members after the random start


def test_tpe_with_several_objectives_says_it_optimises_the_first(caplog):
    with caplog.at_level(logging.WARNING, logger="autolearn.search.strategies.sequential"):
        _searcher("tpe")
    assert "optimises 'acc', the first" in caplog.text


def test_missing_optuna_is_a_one_line_load_time_error(monkeypatch):
    import importlib.util

    from autolearn.errors import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a))
    with pytest.raises(ConfigError, match="pip install 'autolearn\\[optuna\\]'"):
        _searcher("motpe")

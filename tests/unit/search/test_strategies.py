"""Contract tests of every strategy, driven by hand (no Ray running): the searchers' own API
(`set_search_properties`, `suggest`, `on_trial_complete`, `save`/`restore`) for tpe and gp, Ray's
variant generator (`add_configurations`, `next_trial`) for grid and random."""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import pytest

from autolearn.config.defaults import seed_spec
from autolearn.config.space import SearchSpace
from autolearn.config.spec import Experiment
from autolearn.errors import ConfigError
from autolearn.search.strategies import STRATEGIES, make_search

PARAMS = {
    "float": {"type": "float", "low": -1.5, "high": 2.0},
    "log_float": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "step_float": {"type": "float", "low": 0.1, "high": 0.5, "step": 0.1},
    "int": {"type": "int", "low": 1, "high": 6},
    "log_int": {"type": "int", "low": 16, "high": 256, "log": True},
    "step_int": {"type": "int", "low": 1, "high": 9, "step": 2},
    "choice": {"type": "choice", "values": ["adam", 3, 0.5, True]},
    "grid": {"type": "grid", "values": [8, 16]},
}
FINITE = {"step_float", "int", "log_int", "step_int", "choice", "grid"}
BAYESIAN = ("tpe", "gp")


def quadratic(config: dict[str, Any]) -> float:
    return -((config["x"] - 0.3) ** 2 + (config["y"] + 0.2) ** 2)


def drive(strategy: str, space: SearchSpace, n: int, *, seed: int | None = 7, mode: str = "max",
          score: Callable[[dict], Any] = lambda c: 0.0, **kwargs: Any) -> list[dict[str, Any]]:
    """The first `n` configs a strategy hands out, each trial completed with `score` at once."""
    plan = make_search(strategy, space, "score", mode, seed, num_samples=n, **kwargs)
    alg = plan.search_alg
    if strategy in ("grid", "random"):
        from ray.tune.experiment import Experiment as RayExperiment

        alg.add_configurations([RayExperiment("t", lambda config: None, config=plan.param_space,
                                              num_samples=plan.num_samples)])
        configs = []
        while len(configs) < n and (trial := alg.next_trial()) is not None:
            configs.append(trial.config)
        return configs
    alg.set_search_properties("score", mode, {})
    configs = []
    for i in range(n):
        config = alg.suggest(f"t{i}")
        configs.append(config)
        alg.on_trial_complete(f"t{i}", {"score": score(config)})
    return configs


def space_with(kind: str) -> SearchSpace:
    """The parameter under test, plus a float so the Bayesian strategies have something to model."""
    extra = {"other": {"type": "choice", "values": [1, 2]}} if kind in ("float", "log_float") else {
        "other": {"type": "float", "low": 0.0, "high": 1.0}}
    return SearchSpace.from_dict({"p": PARAMS[kind], **extra})


def _usable(strategy: str, kind: str) -> bool:
    return strategy != "grid" or kind in FINITE


@pytest.mark.parametrize("kind", sorted(PARAMS))
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_configs_are_inside_the_space_plain_and_seeded(strategy: str, kind: str) -> None:
    if strategy == "grid":
        space = SearchSpace.from_dict({"p": PARAMS[kind], "other": {"type": "choice", "values": [1, 2]}})
        if kind not in FINITE:
            with pytest.raises(ConfigError, match="space.p: grid search needs finite values"):
                drive(strategy, space, 5)
            return
    else:
        space = space_with(kind)
    options = {"n_initial_points": 3} if strategy in BAYESIAN else {}
    configs = drive(strategy, space, 8, score=lambda c: float(len(repr(c)) % 7), **options)
    assert len(configs) == 8 if strategy != "grid" else len(configs) >= 4
    for config in configs:
        assert space.contains(config), config
        for value in config.values():
            assert type(value) in (int, float, str, bool), (value, type(value))
    again = drive(strategy, space, 5, score=lambda c: float(len(repr(c)) % 7), **options)
    assert again == configs[:5]


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_same_seed_same_first_five_on_the_seed_space(strategy: str) -> None:
    space = SearchSpace.from_dict({k: v for k, v in seed_spec()["space"].items()})
    if strategy == "grid":
        space = SearchSpace.from_dict({"batch_size": {"type": "choice", "values": [16, 32, 64]},
                                       "hidden_units": {"type": "int", "low": 16, "high": 32, "step": 8}})
    first = drive(strategy, space, 5, seed=3, score=lambda c: len(repr(c)))
    assert drive(strategy, space, 5, seed=3, score=lambda c: len(repr(c))) == first
    if strategy != "grid":
        assert drive(strategy, space, 5, seed=4, score=lambda c: len(repr(c))) != first


@pytest.mark.parametrize("mode", ["max", "min"])
def test_gp_beats_random_on_a_quadratic(mode: str) -> None:
    space = SearchSpace.from_dict({"x": {"type": "float", "low": -2.0, "high": 2.0},
                                   "y": {"type": "float", "low": -2.0, "high": 2.0}})
    sign = 1.0 if mode == "max" else -1.0
    regrets = {}
    for strategy in ("gp", "random"):
        configs = drive(strategy, space, 25, seed=0, mode=mode, score=lambda c: sign * quadratic(c))
        regrets[strategy] = min(-quadratic(c) for c in configs)
    assert regrets["gp"] < 1e-3
    assert regrets["gp"] * 20 < regrets["random"], regrets


@pytest.mark.parametrize("strategy", BAYESIAN)
def test_points_to_evaluate_come_first_exactly(strategy: str) -> None:
    space = SearchSpace.from_dict({k: PARAMS[k] for k in PARAMS if k != "grid"})
    point = {"float": 0.25, "log_float": 0.01, "step_float": 0.3, "int": 2, "log_int": 32, "step_int": 5,
             "choice": 3}
    configs = drive(strategy, space, 3, points_to_evaluate=[point])
    assert configs[0] == point and all(type(configs[0][k]) is type(v) for k, v in point.items())


def _innermost(alg: Any) -> Any:
    """The searcher itself, under Ray's concurrency limiter (which keeps it as `.searcher`)."""
    while hasattr(alg, "searcher"):
        alg = alg.searcher
    return alg


def _tpe_losses(searcher: Any, tids: dict[str, int]) -> dict[str, float]:
    """The loss hyperopt's TPE reads for each trial (tpe.py: a missing loss counts as +inf)."""
    docs = {doc["tid"]: doc for doc in searcher._hpopt_trials.trials}
    return {t: (math.nan if tid not in docs else float(docs[tid]["result"].get("loss", math.inf)))
            for t, tid in tids.items()}


# What Ray hands a searcher when a trial ends without a usable score: NaN or inf reported, a
# diverged trial, no metric, no result at all; and an error (Ray calls `error=True`, no result).
FAILURES = {"results": [({"score": float("nan")}, False), ({"score": float("inf")}, False),
                        ({"score": 0.5, "diverged": True}, False), ({}, False), (None, False)],
            "errors": [(None, True)]}


@pytest.mark.parametrize("strategy, kinds", [
    ("gp", "results"), ("gp", "errors"), ("tpe", "results"), ("tpe", "errors"),
])
def test_failed_trials_count_as_worst_and_do_not_crash(strategy: str, kinds: str, monkeypatch) -> None:
    """Each failure reaches the model as the worst score seen: never NaN, never forgotten."""
    space = SearchSpace.from_dict({"x": {"type": "float", "low": -2.0, "high": 2.0},
                                   "c": {"type": "choice", "values": ["a", "b"]}})
    plan = make_search(strategy, space, "score", "max", 1, num_samples=16, n_initial_points=3)
    alg = plan.search_alg
    alg.set_search_properties("score", "max", {})
    searcher = _innermost(alg)
    registered: list[float] = []  # the targets the GP is fitted on (bayes_opt's `register`)
    if strategy == "gp":
        from bayes_opt import BayesianOptimization

        real = BayesianOptimization.register
        monkeypatch.setattr(BayesianOptimization, "register",
                            lambda self, params, target: (registered.append(target), real(self, params, target))[1])
    failures = FAILURES[kinds]
    scores: dict[str, float | None] = {}  # None: failed
    tids: dict[str, int] = {}
    for i in range(15):
        trial = f"t{i}"
        config = alg.suggest(trial)
        assert space.contains(config)
        if strategy == "tpe":
            tids[trial] = searcher._live_trial_mapping[trial][0]
        if i % 3 == 0:
            result, error = failures[(i // 3) % len(failures)]
            alg.on_trial_complete(trial, result, error=error)
            scores[trial] = None
        else:
            scores[trial] = -abs(config["x"])
            alg.on_trial_complete(trial, {"score": scores[trial]})
    registered.clear()
    assert alg.suggest("t15") is not None  # one more fit, with every failure in it
    worst = min(s for s in scores.values() if s is not None)
    if strategy == "tpe":  # TPE minimises -score; tpe.py reads a missing loss as +inf
        losses = _tpe_losses(searcher, tids)
        seen = {t: -losses[t] if s is None else s for t, s in scores.items()}
        assert all(losses[t] == -s for t, s in scores.items() if s is not None)
    else:  # the GP is fitted on every trial once, in the order they ended
        seen = dict(zip(scores, registered))
        assert len(registered) == len(scores) and all(seen[t] == s for t, s in scores.items() if s is not None)
    failed_as = {t: seen[t] for t, s in scores.items() if s is None}
    assert len(failed_as) == 5 and all(v <= worst for v in failed_as.values()), \
        f"failed trials reached {strategy} as {failed_as}, not as the worst score seen ({worst})"
    if strategy == "gp":
        assert set(failed_as.values()) == {worst}  # exactly the worst seen, so the GP is not distorted


@pytest.mark.parametrize("strategy", BAYESIAN)
def test_parallel_trials_get_distinct_configs(strategy: str) -> None:
    """Six trials pending at once in a space of six configs: every one gets its own."""
    space = SearchSpace.from_dict({"c": {"type": "choice", "values": ["a", "b", "c"]},
                                   "i": {"type": "int", "low": 1, "high": 2}})
    plan = make_search(strategy, space, "score", "max", 0, num_samples=12, n_initial_points=2)
    alg = plan.search_alg
    alg.set_search_properties("score", "max", {})
    for i in range(2):
        alg.suggest(f"warm{i}")
        alg.on_trial_complete(f"warm{i}", {"score": float(i)})
    if strategy == "tpe":
        pending = [alg.suggest(f"p{i}") for i in range(4)]
        assert len({repr(sorted(c.items())) for c in pending}) >= 3  # TPE: hyperopt's own liar
        return
    pending = [alg.suggest(f"p{i}") for i in range(4)]
    seen = {repr(sorted(c.items())) for c in pending}
    assert len(seen) == 4, pending


def test_gp_pending_continuous_points_spread_out() -> None:
    space = SearchSpace.from_dict({"x": {"type": "float", "low": -2.0, "high": 2.0},
                                   "y": {"type": "float", "low": -2.0, "high": 2.0}})
    plan = make_search("gp", space, "score", "max", 0, num_samples=20, n_initial_points=5)
    alg = plan.search_alg
    alg.set_search_properties("score", "max", {})
    for i in range(8):
        config = alg.suggest(f"t{i}")
        alg.on_trial_complete(f"t{i}", {"score": quadratic(config)})
    pending = [alg.suggest(f"p{i}") for i in range(4)]
    gaps = [math.dist((a["x"], a["y"]), (b["x"], b["y"])) for i, a in enumerate(pending) for b in pending[i + 1:]]
    assert min(gaps) > 1e-3, pending


@pytest.mark.parametrize("strategy", BAYESIAN)
def test_grid_parameters_are_crossed_with_the_search(strategy: str) -> None:
    space = SearchSpace.from_dict({"g": PARAMS["grid"], "x": {"type": "float", "low": 0.0, "high": 1.0}})
    plan = make_search(strategy, space, "score", "max", 1, num_samples=3,
                       points_to_evaluate=[{"g": 16, "x": 0.25}])
    assert plan.num_samples == plan.expected_trials == 6
    configs = drive(strategy, space, 6, seed=1, points_to_evaluate=[{"g": 16, "x": 0.25}])
    assert sorted(c["g"] for c in configs) == [8, 8, 8, 16, 16, 16]
    assert {"g": 16, "x": 0.25} in configs
    assert all(space.contains(c) for c in configs)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_max_concurrent_reaches_ray(strategy: str) -> None:
    space = SearchSpace.from_dict({"c": {"type": "choice", "values": [1, 2, 3]}})
    plan = make_search(strategy, space, "score", "max", 1, num_samples=4, max_concurrent=2)
    if strategy in BAYESIAN:
        from ray.tune.search import ConcurrencyLimiter

        assert isinstance(plan.search_alg, ConcurrencyLimiter) and plan.search_alg.max_concurrent == 2
    else:
        assert plan.search_alg.max_concurrent == 2


@pytest.mark.parametrize("with_grid", [False, True])
@pytest.mark.parametrize("strategy", BAYESIAN)
def test_save_restore_continues_without_repeats(strategy: str, with_grid: bool, tmp_path) -> None:
    """Stop after 5 of 10 suggestions (2 still running), restore into a fresh searcher, finish."""
    space = {"x": {"type": "float", "low": -2.0, "high": 2.0}, "c": {"type": "choice", "values": ["a", "b"]}}
    if with_grid:
        space["g"] = PARAMS["grid"]
    space = SearchSpace.from_dict(space)

    def searcher() -> Any:
        alg = make_search(strategy, space, "score", "max", 5, num_samples=5 if with_grid else 10,
                          max_concurrent=3, n_initial_points=2).search_alg
        alg.set_search_properties("score", "max", {})
        return alg

    first, configs = searcher(), {}
    for i in range(5):
        configs[f"t{i}"] = first.suggest(f"t{i}")
        if i < 3:
            first.on_trial_complete(f"t{i}", {"score": -abs(configs[f"t{i}"]["x"])})
    first.save(str(tmp_path / "searcher.pkl"))
    second = searcher()
    second.restore(str(tmp_path / "searcher.pkl"))
    for alg in (first, second):  # the restored one must behave exactly like the one that went on
        for i in (3, 4):
            alg.on_trial_complete(f"t{i}", {"score": -abs(configs[f"t{i}"]["x"])})
    rest = {}
    for i in range(5, 10):
        rest[f"t{i}"] = second.suggest(f"t{i}")
        assert first.suggest(f"t{i}") == rest[f"t{i}"]
        second.on_trial_complete(f"t{i}", {"score": -abs(rest[f"t{i}"]["x"])})
        first.on_trial_complete(f"t{i}", {"score": -abs(rest[f"t{i}"]["x"])})
    every = list(configs.values()) + list(rest.values())
    assert len(every) == 10 and len({repr(sorted(c.items())) for c in every}) == 10
    assert all(space.contains(c) for c in every)


def _load(**search: Any) -> Experiment:
    data = copy.deepcopy(seed_spec())
    data["search"].update(search)
    return Experiment.from_dict(data)


@pytest.mark.parametrize("search, path, text", [
    ({"strategy": "gp", "acquisition": "thompson"}, "search.acquisition", "unknown acquisition function 'thompson'"),
    ({"strategy": "gp", "acquisition": "ei", "kappa": 1.0}, "search.kappa", "use xi"),
    ({"strategy": "gp", "xi": -1}, "search.xi", "must be >= 0"),
    ({"strategy": "gp", "max_concurrent": -1}, "search.max_concurrent", "must be >= 1, got -1"),
    ({"strategy": "tpe", "max_concurrent": 0}, "search.max_concurrent", "must be >= 1, got 0"),
    ({"strategy": "tpe", "gamma": 1.5}, "search.gamma", "strictly between 0 and 1"),
    ({"strategy": "tpe", "n_initial_points": 0}, "search.n_initial_points", "must be an integer >= 1"),
    ({"strategy": "tpe", "kappa": 1.0}, "search.kappa", "unknown option for strategy 'tpe'"),
    ({"strategy": "gp", "points_to_evaluate": [{"lr": 0.01}]}, "search.points_to_evaluate[0]",
     "gives no value for 'batch_size'"),
])
def test_bad_search_options_fail_at_load_time(search: dict, path: str, text: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(**search)
    assert err.value.path == path and text in str(err.value)


@pytest.mark.parametrize("strategy", BAYESIAN)
def test_empty_choice_fails_at_load_time(strategy: str) -> None:
    data = copy.deepcopy(seed_spec())
    data["search"]["strategy"] = strategy
    data["space"]["optimizer"] = {"type": "choice", "values": []}
    with pytest.raises(ConfigError, match=r"^space\.optimizer\.values: a choice needs at least one value"):
        Experiment.from_dict(data)


@pytest.mark.parametrize("strategy", BAYESIAN)
def test_only_grid_parameters_are_rejected(strategy: str) -> None:
    data = copy.deepcopy(seed_spec())
    data["search"]["strategy"] = strategy
    data["space"] = {"batch_size": {"type": "grid", "values": [16, 32]}}
    with pytest.raises(ConfigError, match="needs at least one searched .non-grid. parameter"):
        Experiment.from_dict(data)


@pytest.mark.parametrize("strategy, num_samples, points, expected", [
    ("random", 4, 0, 4 * 2), ("random", 4, 1, 4 * 2), ("random", 2, 3, 3 * 2),
    ("grid", 1, 0, 2 * 3), ("grid", 2, 1, 1 + 1 * 2 * 3),
])
def test_expected_trials_counts_warm_start_points_as_ray_does(strategy, num_samples, points, expected):
    from autolearn.config.space import SearchSpace
    from autolearn.search.strategies import make_search

    space = SearchSpace.from_dict({"a": {"type": "grid", "values": [1, 2]},
                                   "b": {"type": "choice", "values": ["x", "y", "z"]}})
    warm = [{"a": 1, "b": "x"}] * points
    plan = make_search(strategy, space, "score", "max", 0, num_samples=num_samples, points_to_evaluate=warm)
    assert plan.expected_trials == expected

"""Conditional parameters (`when:`) under every strategy, driven by hand (no Ray running): a
parameter is in a config exactly when its condition holds, grid enumerates only the active
combinations, nesting and grid parents work, and tpe really uses hyperopt's nested choices."""
from __future__ import annotations

import itertools
from typing import Any

import pytest

from autolearn.config.space import SearchSpace
from autolearn.errors import ConfigError
from autolearn.search.strategies import make_search

NESTED = {  # optimizer → momentum / nesterov_dampening → (nested) dampening; adam → beta1
    "optimizer": {"type": "choice", "values": ["sgd", "momentum", "nesterov", "adam"]},
    "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
    "momentum": {"type": "float", "low": 0.5, "high": 0.99, "when": {"optimizer": ["momentum", "nesterov"]}},
    "damped": {"type": "choice", "values": [True, False], "when": {"optimizer": ["momentum"]}},
    "dampening": {"type": "float", "low": 0.0, "high": 0.5, "when": {"damped": [True]}},
    "beta1": {"type": "float", "low": 0.8, "high": 0.95, "when": {"optimizer": "adam"}},
    "units": {"type": "int", "low": 8, "high": 64, "step": 8},
}
FINITE = {  # the same shape, every parameter finite, for grid
    "optimizer": {"type": "choice", "values": ["sgd", "momentum", "nesterov", "adam"]},
    "momentum": {"type": "choice", "values": [0.8, 0.9, 0.99], "when": {"optimizer": ["momentum", "nesterov"]}},
    "damped": {"type": "choice", "values": [True, False], "when": {"optimizer": ["momentum"]}},
    "dampening": {"type": "float", "low": 0.0, "high": 0.2, "step": 0.1, "when": {"damped": [True]}},
    "beta1": {"type": "grid", "values": [0.8, 0.9], "when": {"optimizer": "adam"}},
    "units": {"type": "int", "low": 8, "high": 16, "step": 8},
}


def active(config: dict[str, Any]) -> set[str]:
    """What the conditions above say must be present, worked out by hand."""
    out = {"optimizer", "units"} | ({"lr"} if "lr" in config else set())
    if config["optimizer"] in ("momentum", "nesterov"):
        out.add("momentum")
    if config["optimizer"] == "momentum":
        out.add("damped")
        if config["damped"] is True:
            out.add("dampening")
    if config["optimizer"] == "adam":
        out.add("beta1")
    return out


def drive(strategy: str, space: SearchSpace, n: int, *, seed: int = 3, **kwargs: Any) -> list[dict[str, Any]]:
    """The configs a strategy hands out, each trial completed at once with a score."""
    plan = make_search(strategy, space, "score", "max", seed, num_samples=n, **kwargs)
    alg = plan.search_alg
    if hasattr(alg, "add_configurations"):  # Ray's variant generator (grid)
        from ray.tune.experiment import Experiment as RayExperiment

        alg.add_configurations([RayExperiment("t", lambda config: None, config=plan.param_space,
                                              num_samples=plan.num_samples)])
        configs = []
        while (trial := alg.next_trial()) is not None:
            configs.append(trial.config)
        return configs
    alg.set_search_properties("score", "max", {})
    configs = []
    for i in range(plan.num_samples):
        config = alg.suggest(f"t{i}")
        configs.append(config)
        alg.on_trial_complete(f"t{i}", {"score": config.get("momentum", 0.0) - config.get("beta1", 0.9)})
    return configs


@pytest.mark.parametrize("strategy, n", [("random", 40), ("tpe", 40), ("gp", 20), ("motpe", 30), ("bohb", 40)])
def test_a_parameter_is_present_exactly_when_active(strategy: str, n: int) -> None:
    space = SearchSpace.from_dict(NESTED)
    options = {"random": {}, "bohb": {"min_points": 6}}.get(strategy, {"n_initial_points": 8})
    configs = drive(strategy, space, n, **options)
    assert len(configs) == n
    for config in configs:
        assert set(config) == active(config), config
        assert space.contains(config)
    seen = {frozenset(c) for c in configs}  # every branch was reached, the nested one included
    assert any("dampening" in s for s in seen) and any("beta1" in s for s in seen)
    assert any(s == {"optimizer", "lr", "units"} for s in seen)


def test_grid_enumerates_only_the_active_combinations() -> None:
    space = SearchSpace.from_dict(FINITE)
    # sgd: 1; momentum: 3 momenta × (damped: 3 dampenings + not damped: 1); nesterov: 3; adam: 2 betas; × 2 units
    expected = (1 + 3 * (3 + 1) + 3 + 2) * 2
    configs = drive("grid", space, 1)
    assert len(configs) == expected == make_search("grid", space, "score", "max", num_samples=1).expected_trials
    assert len({repr(sorted(c.items())) for c in configs}) == expected
    assert all(set(c) == active(c) and space.contains(c) for c in configs)
    flat = SearchSpace.from_dict({k: {kk: vv for kk, vv in v.items() if kk != "when"} for k, v in FINITE.items()})
    assert make_search("grid", flat, "score", "max", num_samples=1).expected_trials == 4 * 3 * 2 * 3 * 2 * 2
    assert len(drive("grid", space, 2)) == 2 * expected  # num_samples repeats the grid


def test_a_conditional_grid_is_limited_by_its_active_combinations() -> None:
    """Flat, 3 × 200 × 200 = 120,000 combinations; active, 2 + 200 × 200: refused without listing
    them all. With the children under different parent values, 401 active: allowed."""
    many = {"type": "int", "low": 1, "high": 200}
    space = {"p": {"type": "choice", "values": ["a", "b", "c"]},
             "x": {**many, "when": {"p": "a"}}, "y": {**many, "when": {"p": "a"}}}
    with pytest.raises(ConfigError, match="more than 10000 active combinations"):
        make_search("grid", SearchSpace.from_dict(space), "score", "max")
    space["y"]["when"] = {"p": "b"}  # 200 + 200 + 1 active, 40,000 flat
    assert make_search("grid", SearchSpace.from_dict(space), "score", "max", num_samples=1).expected_trials == 401


@pytest.mark.parametrize("strategy, n", [("random", 8), ("tpe", 8), ("gp", 4)])
def test_grid_parents_split_the_search(strategy: str, n: int) -> None:
    """A grid parent is crossed with the search: each grid value's searcher sees only its children,
    even none (here `mlp` leaves nothing but `lr`; `linear` leaves nothing to search at all)."""
    space = SearchSpace.from_dict({
        "model": {"type": "grid", "values": ["mlp", "cnn", "linear"]},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "when": {"model": ["mlp", "cnn"]}},
        "kernel": {"type": "choice", "values": [3, 5], "when": {"model": "cnn"}},
        "dilation": {"type": "int", "low": 1, "high": 3, "when": {"kernel": 5}},
    })
    configs = drive(strategy, space, n, n_initial_points=2) if strategy != "random" else drive(strategy, space, n)
    assert len(configs) == 3 * n
    for config in configs:
        assert space.contains(config), config
        want = {"model"} | ({"lr"} if config["model"] != "linear" else set()) | (
            {"kernel"} if config["model"] == "cnn" else set()) | ({"dilation"} if config.get("kernel") == 5 else set())
        assert set(config) == want
    assert {c["model"] for c in configs} == {"mlp", "cnn", "linear"}


def test_tpe_models_a_tree_of_nested_choices() -> None:
    from hyperopt.pyll import Apply

    plan = make_search("tpe", SearchSpace.from_dict(NESTED), "score", "max", 0, num_samples=4)
    hp_space = plan.search_alg._space
    assert isinstance(hp_space["optimizer"], Apply) and hp_space["optimizer"].name == "switch"
    assert set(hp_space) == {"optimizer", "lr", "units"}  # the conditional ones live inside branches


@pytest.mark.parametrize("strategy", ["random", "tpe", "gp", "grid", "motpe", "bohb"])
def test_warm_start_points_leave_inactive_parameters_out(strategy: str) -> None:
    space = SearchSpace.from_dict(FINITE if strategy == "grid" else NESTED)
    lr = {} if strategy == "grid" else {"lr": 0.01}
    points = [{"optimizer": "sgd", "units": 8, **lr},
              {"optimizer": "momentum", "momentum": 0.9, "damped": True, "dampening": 0.1, "units": 16, **lr}]
    extra = {"n_initial_points": 2} if strategy in ("tpe", "gp", "motpe") else {}
    extra = {"min_points": 2} if strategy == "bohb" else extra
    configs = drive(strategy, space, 3, points_to_evaluate=points, **extra)
    assert configs[:2] == points


@pytest.mark.parametrize("point, path", [
    ({"optimizer": "sgd", "momentum": 0.9, "lr": 0.1, "units": 8}, "search.points_to_evaluate[0].momentum"),
    ({"optimizer": "adam", "lr": 0.1, "units": 8}, "search.points_to_evaluate[0]"),  # beta1 missing (tpe)
])
def test_warm_start_points_are_checked_against_the_conditions(point: dict, path: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_search("tpe", SearchSpace.from_dict(NESTED), "score", "max", points_to_evaluate=[point])
    assert err.value.path == path


@pytest.mark.parametrize("strategy", ["random", "tpe", "gp"])
def test_a_grid_parameter_conditional_on_a_sampled_one_is_refused(strategy: str) -> None:
    space = SearchSpace.from_dict({"opt": {"type": "choice", "values": ["a", "b"]},
                                   "g": {"type": "grid", "values": [1, 2], "when": {"opt": "a"}}})
    with pytest.raises(ConfigError) as err:
        make_search(strategy, space, "score", "max")
    assert err.value.path == "space.g.when.opt" and "only on grid parameters" in str(err.value)


def test_random_is_seeded_and_saves_its_state(tmp_path) -> None:
    space = SearchSpace.from_dict(NESTED)
    once = drive("random", space, 10, seed=1)
    assert once == drive("random", space, 10, seed=1) != drive("random", space, 10, seed=2)
    alg = make_search("random", space, "score", "max", 1, num_samples=10).search_alg
    first = [alg.suggest(f"t{i}") for i in range(3)]
    alg.save(str(tmp_path / "s.pkl"))
    rest = [alg.suggest(f"t{i}") for i in range(3, 6)]
    again = make_search("random", space, "score", "max", 9, num_samples=10).search_alg
    again.restore(str(tmp_path / "s.pkl"))
    assert [again.suggest(f"t{i}") for i in range(3, 6)] == rest and first != rest


@pytest.mark.parametrize("strategy", ["tpe", "gp"])
def test_model_based_save_restore_with_conditions(strategy: str, tmp_path) -> None:
    space = SearchSpace.from_dict(NESTED)

    def searcher() -> Any:
        alg = make_search(strategy, space, "score", "max", 5, num_samples=8, n_initial_points=2).search_alg
        alg.set_search_properties("score", "max", {})
        return alg

    first = searcher()
    for i in range(4):
        first.on_trial_complete(f"t{i}", {"score": first.suggest(f"t{i}").get("momentum", 0.0)})
    first.save(str(tmp_path / "s.pkl"))
    second = searcher()
    second.restore(str(tmp_path / "s.pkl"))
    for i in range(4, 8):
        config = second.suggest(f"t{i}")
        assert config == first.suggest(f"t{i}") and set(config) == active(config)
        for alg in (first, second):
            alg.on_trial_complete(f"t{i}", {"score": config.get("momentum", 0.0)})


def test_every_combination_of_parent_values_is_reachable_by_tpe_tree_encoding() -> None:
    """Every active combination of the finite parents round-trips through the tree's labels."""
    from autolearn.search.encoding import SpaceEncoding
    from autolearn.search.strategies.tpe_searcher import from_label, hyperopt_dim, to_label
    from autolearn.search.strategies.tpe_tree import Tree

    space = SearchSpace.from_dict(NESTED)
    tree = Tree(SpaceEncoding(space).searched, space.conditions, hyperopt_dim)
    for optimizer, damped in itertools.product(["sgd", "momentum", "nesterov", "adam"], [True, False]):
        config = space.prune({"optimizer": optimizer, "lr": 0.01, "momentum": 0.9, "damped": damped,
                              "dampening": 0.25, "beta1": 0.9, "units": 16})
        labels = tree.encode(config, to_label)
        assert len(labels) == len(config)
        nested = _evaluate(tree.space, labels)
        assert tree.decode(nested, from_label) == config


def _evaluate(expr: Any, labels: dict[str, Any]) -> Any:
    """What hyperopt's evaluation of the tree gives for the given labels (a stand-in for `rec_eval`)."""
    import hyperopt.pyll as pyll
    from hyperopt.pyll.stochastic import sample

    memo = {}
    for node in pyll.dfs(pyll.as_apply(expr)):
        if node.name == "hyperopt_param":
            label = node.arg["label"].obj
            if label in labels:
                memo[node] = labels[label]
    return pyll.rec_eval(pyll.as_apply(expr), memo=memo) if memo else sample(expr)

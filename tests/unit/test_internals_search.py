"""The private parts of hyperopt's Ray adapter and of bayes_opt that `autolearn.internals` reaches,
one test each, on the real libraries (no Ray started). When an upgrade moves one, its test fails
naming the attribute and the library version, instead of a sweep quietly scoring NaN trials or
crashing at the first model-based suggestion."""
from __future__ import annotations

from typing import Any

import pytest

from autolearn.internals import HyperOptResultHook, bayes_opt_gp


def test_hyperopt_search_still_turns_results_into_hyperopt_results_through_the_hook() -> None:
    import ray
    from hyperopt import hp
    from ray.tune.search.hyperopt import HyperOptSearch

    seen: list[Any] = []

    class Recording(HyperOptResultHook, HyperOptSearch):
        def hyperopt_result(self, result: dict[str, Any]) -> dict[str, Any]:
            seen.append(result)
            return {"status": "fail"}

    where = (f"ray {ray.__version__}: HyperOptSearch no longer calls the private `_to_hyperopt_result` "
             "when a trial completes; autolearn.internals.HyperOptResultHook overrides it so that failed "
             "and NaN trials reach hyperopt as failures")
    assert callable(getattr(HyperOptSearch, "_to_hyperopt_result", None)), where
    searcher = Recording(space={"x": hp.uniform("x", 0.0, 1.0)}, metric="score", mode="max",
                         random_state_seed=0)
    config = searcher.suggest("t0")
    assert config is not None and 0.0 <= config["x"] <= 1.0
    searcher.on_trial_complete("t0", {"score": 0.5})
    assert seen == [{"score": 0.5}], where
    assert searcher.suggest("t1") is not None  # hyperopt took the failure and goes on


def test_bayes_opt_still_keeps_its_fitted_gp_as_the_acquisition_wants_it() -> None:
    import bayes_opt
    from bayes_opt import BayesianOptimization, acquisition
    from sklearn.gaussian_process import GaussianProcessRegressor

    optimizer = BayesianOptimization(f=None, pbounds={"x": (0.0, 1.0)}, random_state=0, verbose=0,
                                     acquisition_function=acquisition.ExpectedImprovement(xi=0.01))
    for x in (0.1, 0.5, 0.9):
        optimizer.register({"x": x}, -(x - 0.3) ** 2)
    gp = bayes_opt_gp(optimizer)
    assert isinstance(gp, GaussianProcessRegressor), (
        f"bayes_opt {bayes_opt.__version__}: BayesianOptimization._gp is a {type(gp).__name__}, not the "
        "GaussianProcessRegressor autolearn.internals.bayes_opt_gp hands to the acquisition function")
    x = optimizer.acquisition_function.suggest(gp=gp, target_space=optimizer.space, n_random=200, n_smart=0,
                                               fit_gp=True, random_state=0)
    assert 0.0 <= float(x[0]) <= 1.0


def test_a_moved_gp_is_named_with_the_library_version() -> None:
    import bayes_opt

    with pytest.raises(AttributeError, match=rf"bayes_opt {bayes_opt.__version__}: .*`_gp`"):
        bayes_opt_gp(object())

"""`tpe`: hyperopt's Tree-structured Parzen Estimator through Ray Tune (see `tpe_searcher.py`)."""
from __future__ import annotations

from typing import Any, ClassVar

from autolearn.config.space import SearchSpace, as_number
from autolearn.errors import ConfigError
from autolearn.search.strategies.base import SearchRequest
from autolearn.search.strategies.sequential import ModelBasedStrategy, OptionCheck, positive_int


def _gamma(value: Any, path: str) -> float:
    out = float(as_number(value, path))
    if not 0.0 < out < 1.0:
        raise ConfigError(path, f"must be strictly between 0 and 1 (the share of trials TPE counts as "
                          f"good), got {out}")
    return out


class TPESearch(ModelBasedStrategy):
    """Options: `n_initial_points` (random trials before TPE models, default 20 as in hyperopt and
    Ray's HyperOptSearch; 10 suits small budgets in few dimensions, see docs/BENCHMARKS.md) and `gamma`
    (share of the best trials that form the "good" density, default 0.25)."""

    name = "tpe"
    options: ClassVar[dict[str, OptionCheck]] = {"n_initial_points": positive_int, "gamma": _gamma}

    def make_searcher(self, request: SearchRequest, space: SearchSpace, seed: int | None,
                      points: list[dict[str, Any]], options: dict[str, Any]) -> Any:
        from autolearn.search.strategies.tpe_searcher import TPESearcher

        return TPESearcher(space, request.metric, request.mode, points_to_evaluate=points,
                           n_initial_points=options.get("n_initial_points", 20),
                           gamma=options.get("gamma", 0.25), seed=seed)

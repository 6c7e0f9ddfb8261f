"""The adapter layer: strategy name → `Strategy`, all reading the one `SearchSpace`.

Adding a strategy is one file with one `Strategy` subclass and one line in `STRATEGIES`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from autolearn.config.space import SearchSpace
from autolearn.errors import ConfigError, allowed
from autolearn.search.strategies.base import SearchPlan, SearchRequest, Strategy
from autolearn.search.strategies.gp import GPSearch
from autolearn.search.strategies.grid import GridSearch
from autolearn.search.strategies.random import RandomSearch
from autolearn.search.strategies.tpe import TPESearch

STRATEGIES: dict[str, type[Strategy]] = {
    "grid": GridSearch,
    "random": RandomSearch,
    "tpe": TPESearch,
    "gp": GPSearch,
}

__all__ = ["STRATEGIES", "SearchPlan", "SearchRequest", "Strategy", "get_strategy", "make_search"]


def get_strategy(name: str) -> Strategy:
    """The strategy registered under `name`; an unknown name is a spec error listing the known ones."""
    if name not in STRATEGIES:
        raise ConfigError("search.strategy", f"unknown strategy {name!r}; allowed: {allowed(STRATEGIES)}")
    return STRATEGIES[name]()


def make_search(strategy: str, space: SearchSpace, metric: str, mode: str, seed: int | None = None, *,
                num_samples: int = 10, max_concurrent: int | None = None,
                points_to_evaluate: Sequence[Mapping[str, Any]] = (), **options: Any) -> SearchPlan:
    """Check and build a strategy in one call (the Python API; the runner does the same)."""
    request = SearchRequest(space=space, metric=metric, mode=mode, num_samples=num_samples, seed=seed,
                            max_concurrent=max_concurrent, points_to_evaluate=tuple(points_to_evaluate),
                            options=options)
    chosen = get_strategy(strategy)
    chosen.check(request)
    return chosen.build(request)

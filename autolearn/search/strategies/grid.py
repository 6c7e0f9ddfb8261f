"""Exhaustive search: every combination of the finite values of every parameter.

With `when:` conditions only the active combinations are enumerated: a parameter takes values only
where its condition holds and is absent from the config elsewhere (`active_combinations`). Ray's
`grid_search` can only cross every key with every other, so a conditional grid hands Ray the
combinations themselves, through a searcher that hands out a fixed list (`fixed.py`).
"""
from __future__ import annotations

import math

from autolearn.config.conditions import active_combinations
from autolearn.config.space import MAX_GRID_POINTS
from autolearn.errors import ConfigError
from autolearn.search.strategies.base import SearchPlan, SearchRequest, Strategy, limit_concurrency


class GridSearch(Strategy):
    """`choice`, `grid`, `int` and stepped `float` parameters are enumerated; `num_samples` repeats
    the whole grid (useful to average noisy trials), it does not cap it."""

    name = "grid"

    def check(self, request: SearchRequest) -> None:
        super().check(request)
        sizes = []
        for name, param in request.space.items():
            values = param.grid_values()
            if values is None:
                raise ConfigError(f"space.{name}", f"grid search needs finite values, but {name} is a "
                                  f"continuous {param.kind} range; give it `step`, or make it "
                                  "{type: grid, values: [...]}, or use strategy random/tpe/gp")
            sizes.append(len(values))
        total = math.prod(sizes)
        if request.space.conditions and total > MAX_GRID_POINTS:  # inactive values may bring it under
            if len(self.combinations(request, limit=MAX_GRID_POINTS)) > MAX_GRID_POINTS:
                raise ConfigError("space", f"the grid has more than {MAX_GRID_POINTS} active combinations; "
                                  "narrow the ranges or use a sampling strategy")
        elif total > MAX_GRID_POINTS:
            raise ConfigError("space", f"the grid has {total} combinations (more than {MAX_GRID_POINTS}); "
                              "narrow the ranges or use a sampling strategy")

    @staticmethod
    def combinations(request: SearchRequest, limit: int | None = None) -> list[dict]:
        """The active combinations of a conditional space, in space order (past `limit`: a part)."""
        grids = {name: p.grid_values() or [] for name, p in request.space.items()}
        return active_combinations(grids, request.space.conditions, limit)

    def build(self, request: SearchRequest) -> SearchPlan:
        from ray import tune
        from ray.tune.search.basic_variant import BasicVariantGenerator

        if request.space.conditions:
            return self._build_conditional(request)
        grids = {name: p.grid_values() or [] for name, p in request.space.items()}  # `check` saw them finite
        space = {name: tune.grid_search(values) for name, values in grids.items()}
        size = math.prod(len(values) for values in grids.values())
        generator = BasicVariantGenerator(max_concurrent=request.max_concurrent or 0,
                                          points_to_evaluate=[dict(p) for p in request.points_to_evaluate] or None)
        return SearchPlan(param_space=space, num_samples=request.num_samples, search_alg=generator,
                          # Each warm-start point is one trial and replaces one pass over the grid.
                          expected_trials=len(request.points_to_evaluate)
                          + max(request.num_samples - len(request.points_to_evaluate), 0) * size)

    def _build_conditional(self, request: SearchRequest) -> SearchPlan:
        from autolearn.search.strategies.fixed import FixedSearcher

        given = [dict(p) for p in request.points_to_evaluate]
        # As for a plain grid: each warm-start point is one trial and replaces one pass over the grid.
        configs = given + self.combinations(request) * max(request.num_samples - len(given), 0)
        searcher = FixedSearcher(configs, request.metric, request.mode)
        return SearchPlan(param_space={}, num_samples=len(configs), expected_trials=len(configs),
                          search_alg=limit_concurrency(searcher, request.max_concurrent))

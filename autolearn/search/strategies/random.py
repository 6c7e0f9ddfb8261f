"""Random search through Ray's variant generator, seeded: the same seed gives the same configs.

A space with `when:` conditions is sampled by `ConditionalRandomSearcher` instead (Ray's generator
cannot leave a key out), its `grid` parameters crossed with the draws as for `tpe`/`gp`.
"""
from __future__ import annotations

from autolearn.search.strategies.base import SearchPlan, SearchRequest, Strategy, limit_concurrency
from autolearn.search.strategies.sequential import check_grid_conditions, cross_grid


class RandomSearch(Strategy):
    """Independent draws from every parameter; `grid` parameters are crossed with the draws."""

    name = "random"

    def check(self, request: SearchRequest) -> None:
        super().check(request)
        check_grid_conditions(request, self.name)

    def build(self, request: SearchRequest) -> SearchPlan:
        from ray.tune.search.basic_variant import BasicVariantGenerator

        if request.space.conditions:
            return self._build_conditional(request)

        generator = BasicVariantGenerator(
            points_to_evaluate=[dict(p) for p in request.points_to_evaluate] or None,
            max_concurrent=request.max_concurrent or 0,
            random_state=request.seed,
        )
        return SearchPlan(param_space=request.space.to_tune(), num_samples=request.num_samples,
                          search_alg=generator,
                          # Ray lets each warm-start point replace one sample (grid values still crossed).
                          expected_trials=max(request.num_samples, len(request.points_to_evaluate))
                          * request.space.grid_size())

    def _build_conditional(self, request: SearchRequest) -> SearchPlan:
        from autolearn.search.strategies.random_searcher import ConditionalRandomSearcher

        searcher, total = cross_grid(request, lambda rest, seed, points: ConditionalRandomSearcher(
            rest, request.metric, request.mode, points_to_evaluate=points, seed=seed))
        return SearchPlan(param_space={}, num_samples=total, expected_trials=total,
                          search_alg=limit_concurrency(searcher, request.max_concurrent))

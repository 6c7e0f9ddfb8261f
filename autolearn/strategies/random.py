"""Random search through Ray's variant generator, seeded: the same seed gives the same configs."""
from __future__ import annotations

from autolearn.strategies.base import SearchPlan, SearchRequest, Strategy


class RandomSearch(Strategy):
    """Independent draws from every parameter; `grid` parameters are crossed with the draws."""

    name = "random"

    def build(self, request: SearchRequest) -> SearchPlan:
        from ray.tune.search.basic_variant import BasicVariantGenerator

        generator = BasicVariantGenerator(
            points_to_evaluate=[dict(p) for p in request.points_to_evaluate] or None,
            max_concurrent=request.max_concurrent or 0,
            random_state=request.seed,
        )
        return SearchPlan(param_space=request.space.to_tune(), num_samples=request.num_samples,
                          search_alg=generator,
                          expected_trials=request.num_samples * request.space.grid_size()
                          + len(request.points_to_evaluate))

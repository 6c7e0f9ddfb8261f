"""Random search through Ray's variant generator, seeded: the same seed gives the same configs."""
from __future__ import annotations

from autolearn.search.strategies.base import SearchPlan, SearchRequest, Strategy


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
                          # Ray lets each warm-start point replace one sample (grid values still crossed).
                          expected_trials=max(request.num_samples, len(request.points_to_evaluate))
                          * request.space.grid_size())

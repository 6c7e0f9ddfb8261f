"""Random search over a conditional space, as a Ray Tune searcher.

Ray's variant generator samples every key of `param_space`, so it cannot leave a parameter out.
This searcher draws parents first and a conditional parameter only when its condition holds on
what was drawn: an inactive parameter is never sampled and never in the config. Each parameter is
drawn from its own Ray domain (`Param.to_tune`), so the distributions are those of a plain random
sweep, seeded by one `RandomState` whose state is saved with the searcher.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ray.tune.search import Searcher

from autolearn.config.conditions import order
from autolearn.config.space import SearchSpace
from autolearn.search.strategies.state import PickledState
from autolearn.values import plain


class ConditionalRandomSearcher(PickledState, Searcher):
    """Independent draws, parents before children, inactive parameters skipped (module doc)."""

    def __init__(self, space: SearchSpace, metric: str | None = None, mode: str | None = None, *,
                 points_to_evaluate: Sequence[Mapping[str, Any]] = (), seed: int | None = None) -> None:
        super().__init__(metric=metric, mode=mode)
        self._space = space
        self._order = order(space, space.conditions)
        self._queue = [dict(p) for p in points_to_evaluate]
        self._rng = np.random.RandomState(seed)

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        self._metric, self._mode = metric or self._metric, mode or self._mode
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self._queue:
            return self._queue.pop(0)
        config: dict[str, Any] = {}
        for name in self._order:
            condition = self._space.conditions.get(name)
            if condition is None or condition.holds(config):
                config[name] = plain(self._space[name].to_tune().sample(random_state=self._rng))
        return {n: config[n] for n in self._space if n in config}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        """Random search learns nothing from results."""

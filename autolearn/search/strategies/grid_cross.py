"""`grid` parameters crossed with a Bayesian searcher: one searcher per grid combination.

Trial i goes to combination i mod k, so `num_samples: n` gives n trials per combination (see
`sequential.py` for why). Imported only when a sweep has grid parameters: it needs Ray.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ray.tune.search import Searcher

from autolearn.search.strategies.state import PickledState


class GridCross(PickledState, Searcher):
    """One searcher per grid combination; trial i goes to combination i mod k (see module doc)."""

    def __init__(self, combos: Sequence[dict[str, Any]], searchers: Sequence[Any], metric: str,
                 mode: str) -> None:
        super().__init__(metric=metric, mode=mode)
        self._combos = list(combos)
        self._searchers = list(searchers)
        self._owner: dict[str, int] = {}
        self._count = 0

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        for searcher in self._searchers:
            searcher.set_search_properties(metric, mode, config, **spec)
        self._metric, self._mode = metric or self._metric, mode or self._mode
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        i = self._count % len(self._combos)
        config = self._searchers[i].suggest(trial_id)
        if config is None or config == self.FINISHED:
            return config
        self._count += 1
        self._owner[trial_id] = i
        return {**config, **self._combos[i]}

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if trial_id in self._owner:
            self._searchers[self._owner[trial_id]].on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id in self._owner:
            self._searchers[self._owner.pop(trial_id)].on_trial_complete(trial_id, result=result, error=error)

"""A searcher that hands out a fixed list of configs, then says it is finished.

A conditional grid (`grid.py`) is a list of combinations in which each config has its own keys;
Ray's variant generator resolves every config against one `param_space` and cannot hand out keys
some configs lack, so the list goes to Ray through this searcher instead.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ray.tune.search import Searcher

from autolearn.search.strategies.state import PickledState


class FixedSearcher(PickledState, Searcher):
    """`configs` in order, one per trial; `FINISHED` after the last."""

    def __init__(self, configs: Sequence[dict[str, Any]], metric: str | None = None, mode: str | None = None) -> None:
        super().__init__(metric=metric, mode=mode)
        self._configs = [dict(c) for c in configs]
        self._next = 0

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        self._metric, self._mode = metric or self._metric, mode or self._mode
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self._next >= len(self._configs):
            finished: Any = Searcher.FINISHED  # Ray's own annotation leaves out its FINISHED string
            return finished
        self._next += 1
        return dict(self._configs[self._next - 1])

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        """A fixed list learns nothing from results."""

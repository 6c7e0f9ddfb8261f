"""How `tpe` and `gp` learn to avoid infeasible regions: a trial that broke a constraint is scored
as a failure, i.e. the worst score the searcher knows (hyperopt's infinite loss; the GP's worst
value seen), exactly as a diverged trial is. The model then samples less where constraints break.

A wrapper, like Ray's `ConcurrencyLimiter`, so the searchers stay single-purpose. Strategies that
model constraints themselves (`motpe`, `nsga2`: Optuna's `constraints_func`) do not use it.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ray.tune.search import Searcher

from autolearn.config.objectives import ConstraintSpec, is_feasible


class ConstraintPenalty(Searcher):
    """Forwards everything to `searcher`; an infeasible final result reaches it as a failed one."""

    def __init__(self, searcher: Searcher, constraints: Sequence[ConstraintSpec]) -> None:
        self.searcher = searcher
        self.constraints = tuple(constraints)
        super().__init__(metric=searcher.metric, mode=searcher.mode)

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        self._metric, self._mode = metric or self._metric, mode or self._mode
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        return self.searcher.suggest(trial_id)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if result is not None and not error and not is_feasible(result, self.constraints):
            result = {**result, "diverged": True}  # `sequential.score_of` reads it as a failure
        self.searcher.on_trial_complete(trial_id, result, error=error)

    def save(self, checkpoint_path: str) -> None:
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self.searcher.restore(checkpoint_path)

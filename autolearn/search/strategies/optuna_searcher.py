"""Optuna's multi-objective samplers as a Ray Tune searcher, fed from autolearn's `SearchSpace`.

One Optuna study with one direction per objective (`ask`/`tell`), so the sampler models the whole
front, not one weighted sum: `TPESampler` (MOTPE, with Optuna's constant liar for trials still
running) or `NSGAIISampler`. Ray's `OptunaSearch` would do, but it takes Ray domains (lossy for
autolearn's ints and steps) and hides the trial objects the constraints need; this is the
`tpe_searcher.py` pattern again, a few dozen lines over the one encoding:

- every parameter is suggested on its encoded line: floats and ints as they are (log kept), stepped
  ranges and choices as an index (`suggest_int` / `suggest_categorical`), decoded back to exact,
  in-bounds, plain-Python values;
- each objective's value is the trial's best primary score over its reports (the number that ranks
  it everywhere) and its last report's value of the others, as in `results/pareto.py`;
- a trial that errored, diverged or reported NaN/none of an objective is told as failed;
- constraints are Optuna's own: each trial's violations (`config/objectives.py`, 0 when a bound
  holds) go to `constraints_func`, which both samplers use to prefer feasible trials.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ray.tune.search import Searcher

from autolearn.config.conditions import order
from autolearn.config.objectives import ConstraintSpec, violations
from autolearn.config.sections import MetricSpec
from autolearn.config.space import SearchSpace
from autolearn.search.encoding import INDEXED, Dimension, SpaceEncoding
from autolearn.search.strategies.sequential import score_of
from autolearn.search.strategies.state import PickledState
from autolearn.values import is_better

CONSTRAINTS_ATTR = "autolearn_constraints"
MISSING = 1e12  # Optuna needs a finite violation: a constrained metric that was never reported


def constraint_values(trial: Any) -> Sequence[float]:
    """Optuna's `constraints_func`: what `on_trial_complete` stored (module level, so it pickles)."""
    return trial.user_attrs.get(CONSTRAINTS_ATTR, [0.0])


def make_sampler(kind: str, seed: int | None, n_initial_points: int, population_size: int | None,
                 constrained: bool) -> Any:
    import optuna

    func = constraint_values if constrained else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ExperimentalWarning of constraints_func / multivariate
        if kind == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=population_size or 50,
                                                 constraints_func=func)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_initial_points, multivariate=True,
                                          constant_liar=True, constraints_func=func)


def _suggest(trial: Any, d: Dimension) -> Any:
    if d.kind in INDEXED:
        return trial.suggest_int(d.name, 0, len(d.values) - 1) if d.kind == "ordinal" else \
            trial.suggest_categorical(d.name, list(range(len(d.values))))
    p = d.param
    if d.kind == "int":
        return trial.suggest_int(d.name, int(p.low), int(p.high), log=d.log)  # type: ignore[attr-defined]
    return trial.suggest_float(d.name, float(p.low), float(p.high), log=d.log)  # type: ignore[attr-defined]


def _decode(d: Dimension, raw: Any) -> Any:
    return d.values[int(raw)] if d.kind in INDEXED else d.nearest(raw)


def _encode(d: Dimension, value: Any) -> Any:
    return int(d.to_internal(value)) if d.kind in INDEXED else value


class OptunaSearcher(PickledState, Searcher):
    """Multi-objective (and constrained) search on an Optuna study (module doc)."""

    def __init__(self, space: SearchSpace, objectives: Sequence[MetricSpec],
                 constraints: Sequence[ConstraintSpec] = (), *, sampler: str = "tpe",
                 points_to_evaluate: Sequence[Mapping[str, Any]] = (), n_initial_points: int = 10,
                 population_size: int | None = None, seed: int | None = None) -> None:
        import optuna

        super().__init__(metric=objectives[0].name, mode=objectives[0].mode)
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # one INFO line per trial otherwise
        self._space = space
        self._encoding = SpaceEncoding(space)
        self._objectives = tuple(objectives)
        self._constraints = tuple(constraints)
        self._study = optuna.create_study(
            directions=["maximize" if o.mode == "max" else "minimize" for o in self._objectives],
            sampler=make_sampler(sampler, seed, n_initial_points, population_size, bool(self._constraints)))
        for point in points_to_evaluate:
            self._study.enqueue_trial({n: _encode(d, point[n]) for n, d in self._encoding.searched.items()
                                       if n in point})
        self._live: dict[str, Any] = {}  # Ray trial id → Optuna trial
        self._best: dict[str, float] = {}  # Ray trial id → best primary score so far

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        return True  # the objectives are fixed at construction; Ray's metric is the primary one

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        trial = self._study.ask()
        self._live[trial_id] = trial
        return self._encoding.complete(self._draw(trial))

    def _draw(self, trial: Any) -> dict[str, Any]:
        """Suggest parents before children and a `when:` child only where its condition holds:
        Optuna's define-by-run trials are the native form of a conditional space (its TPE models
        each parameter from the trials that drew it)."""
        conditions = self._space.conditions
        dims = self._encoding.dimensions
        drawn: dict[str, Any] = {}
        for name in order(dims, conditions):
            if name in conditions and not conditions[name].holds(drawn):
                continue
            d = dims[name]
            drawn[name] = _decode(d, _suggest(trial, d)) if name in self._encoding.searched else d.constant_value
        return {n: v for n, v in drawn.items() if n in self._encoding.searched}

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        score = score_of(result, self._objectives[0].name)
        best = self._best.get(trial_id)
        if score is not None and is_better(score, best, self._objectives[0].mode):
            self._best[trial_id] = score

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        from optuna.trial import TrialState

        trial = self._live.pop(trial_id, None)
        if trial is None:
            return
        if result is not None and not error:
            self.on_trial_result(trial_id, result)
        values = None if error else self._values(trial_id, result)
        self._best.pop(trial_id, None)
        if values is None:
            self._study.tell(trial, state=TrialState.FAIL)
            return
        if self._constraints:
            found = violations(result or {}, self._constraints)
            trial.set_user_attr(CONSTRAINTS_ATTR, [min(v, MISSING) for v in found])
        self._study.tell(trial, values)

    def _values(self, trial_id: str, result: Mapping[str, Any] | None) -> list[float] | None:
        if not result or result.get("diverged") or trial_id not in self._best:
            return None
        values = [self._best[trial_id]]
        for o in self._objectives[1:]:
            value = score_of(result, o.name)
            if value is None:
                return None
            values.append(value)
        return values

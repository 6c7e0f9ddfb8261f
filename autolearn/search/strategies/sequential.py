"""What the sequential model-based strategies (`tpe`, `gp`) share: option checks, the score rule,
and the crossing of `grid` parameters with a Bayesian search.

`grid` parameters promise that every one of their values is tried, under every strategy. A Bayesian
searcher cannot honour that by itself (its suggestions are its own), so `GridCross` runs one
independent searcher per grid combination, each over the remaining parameters, and hands trials
out round-robin: with `num_samples: n` and a grid of k combinations the sweep runs n × k trials, n
per combination, exactly like `random`. Each combination's model only learns from its own trials,
which is the honest reading of "search the rest once per grid value".
"""
from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from autolearn.config.conditions import active_combinations, resolve
from autolearn.config.space import GridParam, SearchSpace, as_number
from autolearn.errors import ConfigError, allowed
from autolearn.search.encoding import SpaceEncoding
from autolearn.search.strategies.base import SearchPlan, SearchRequest, Strategy, limit_concurrency
from autolearn.values import is_finite_number, plain

OptionCheck = Callable[[Any, str], Any]
log = logging.getLogger(__name__)


def positive_int(value: Any, path: str) -> int:
    out = int(as_number(value, path, integer=True))
    if out < 1:
        raise ConfigError(path, f"must be an integer >= 1, got {out}")
    return out


def non_negative(value: Any, path: str) -> float:
    out = float(as_number(value, path))
    if out < 0:
        raise ConfigError(path, f"must be >= 0, got {out}")
    return out


def score_of(result: Mapping[str, Any] | None, metric: str) -> float | None:
    """The metric of a finished trial, or None when it diverged, errored or never reported it.

    Searchers turn None into the worst score: a diverged region must look bad, not be forgotten
    (and NaN must never reach a library that sorts or regresses on scores).
    """
    if not result or result.get("diverged"):
        return None
    value = plain(result.get(metric))
    return float(value) if is_finite_number(value) else None


class ModelBasedStrategy(Strategy):
    """Base of `tpe` and `gp`: a searcher of ours, `max_concurrent` applied, grids crossed."""

    options: ClassVar[dict[str, OptionCheck]] = {"n_initial_points": positive_int}
    # Whether the searcher models every objective (else only the primary, the first: documented,
    # and logged when a sweep has several), and the constraints itself (else `ConstraintPenalty`).
    multi_objective: ClassVar[bool] = False
    native_constraints: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.option_names = frozenset(cls.options)

    def check(self, request: SearchRequest) -> None:
        super().check(request)
        self.read_options(request.options)
        searched = [n for n, p in request.space.items() if not isinstance(p, GridParam)]
        if not searched:
            raise ConfigError("space", f"strategy {self.name!r} needs at least one searched (non-grid) "
                              "parameter; with only grid parameters use strategy 'grid'")
        check_grid_conditions(request, self.name)
        for i, point in enumerate(request.points_to_evaluate):
            missing = [n for n in searched if n not in point and is_active(request.space, n, point)]
            if missing:
                raise ConfigError(f"search.points_to_evaluate[{i}]",
                                  f"gives no value for {missing[0]!r}; strategy {self.name!r} needs a "
                                  f"value for every searched parameter active in the point ({allowed(searched)})")

    def read_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Checked, typed options; cross-option rules belong in subclasses."""
        return {key: self.options[key](value, f"search.{key}") for key, value in options.items()}

    @abstractmethod
    def make_searcher(self, request: SearchRequest, space: SearchSpace, seed: int | None,
                      points: list[dict[str, Any]], options: dict[str, Any]) -> Any:
        """One Ray Tune `Searcher` over `space` (no grid parameters in it)."""

    def build(self, request: SearchRequest) -> SearchPlan:
        options = self.read_options(request.options)
        searcher, total = cross_grid(request, lambda rest, seed, points: self.make_searcher(
            request, rest, seed, points, options))
        if request.constraints and not self.native_constraints:
            from autolearn.search.strategies.constrained import ConstraintPenalty

            searcher = ConstraintPenalty(searcher, request.constraints)
        if len(request.all_objectives) > 1 and not self.multi_objective:
            log.warning("strategy %r models one objective: it optimises %r, the first; the Pareto front is still "
                        "found over all of them. For a search that models every objective use 'motpe' or 'nsga2'",
                        self.name, request.metric)
        return SearchPlan(param_space={}, num_samples=total,
                          search_alg=limit_concurrency(searcher, request.max_concurrent), expected_trials=total)


def is_active(space: SearchSpace, name: str, config: Mapping[str, Any]) -> bool:
    """Whether `config`'s values make `name` active (its condition holds, or it has none)."""
    return name not in space.conditions or space.conditions[name].holds(space.prune(config))


def check_grid_conditions(request: SearchRequest, strategy: str) -> None:
    """A grid parameter is crossed with the search, so its condition may name only grid parameters."""
    for name, condition in request.space.conditions.items():
        if not isinstance(request.space[name], GridParam):
            continue
        for parent in condition.names:
            if not isinstance(request.space[parent], GridParam):
                raise ConfigError(f"space.{name}.when.{parent}", f"under strategy {strategy!r} a grid "
                                  f"parameter is crossed with the search, so it can be conditional only on "
                                  f"grid parameters; make {name!r} a choice, or {parent!r} a grid")


def cross_grid(request: SearchRequest, make: Callable[[SearchSpace, int | None, list[dict[str, Any]]], Any]
               ) -> tuple[Any, int]:
    """One searcher (`make(rest, seed, points)`) per active grid combination, crossed round-robin;
    the searcher and how many trials it runs. Each combination's space keeps only the parameters
    its grid values leave active, with those grid parents taken out of their conditions."""
    space = request.space
    grid = {n: list(p.values) for n, p in space.items() if isinstance(p, GridParam)}
    combos = active_combinations(grid, {n: c for n, c in space.conditions.items() if n in grid})

    def searcher_for(i: int, combo: dict[str, Any]) -> Any:
        names, conditions = resolve(space, space.conditions, combo, grid)
        rest = SearchSpace({n: space[n] for n in names}, conditions)
        points = [{k: v for k, v in p.items() if k in rest} for p in request.points_to_evaluate
                  if all(p.get(k, v) == v for k, v in combo.items())]
        seed = None if request.seed is None else request.seed + i
        if not SpaceEncoding(rest).searched:  # nothing left to model under this combination
            from autolearn.search.strategies.random_searcher import ConditionalRandomSearcher

            return ConditionalRandomSearcher(rest, request.metric, request.mode, points_to_evaluate=points)
        return make(rest, seed, points)

    searchers = [searcher_for(i, combo) for i, combo in enumerate(combos)]
    if grid:
        from autolearn.search.strategies.grid_cross import GridCross

        return GridCross(combos, searchers, request.metric, request.mode), request.num_samples * len(combos)
    return searchers[0], request.num_samples

"""The adapter layer: strategy name → `Strategy`, all reading the one `SearchSpace`.

Adding a strategy is one file with one `Strategy` subclass and one line in `STRATEGIES`; outside
the package, `search.strategy: mypkg.search:MyStrategy` names it by import path instead.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autolearn.config.plugins import resolve
from autolearn.config.space import SearchSpace
from autolearn.errors import ConfigError
from autolearn.search.strategies.base import SearchPlan, SearchRequest, Strategy
from autolearn.search.strategies.bohb import BOHBSearch
from autolearn.search.strategies.gp import GPSearch
from autolearn.search.strategies.grid import GridSearch
from autolearn.search.strategies.multi_objective import MOTPESearch, NSGA2Search
from autolearn.search.strategies.random import RandomSearch
from autolearn.search.strategies.tpe import TPESearch

STRATEGIES: dict[str, type[Strategy]] = {
    "grid": GridSearch,
    "random": RandomSearch,
    "tpe": TPESearch,
    "gp": GPSearch,
    "bohb": BOHBSearch,
    "motpe": MOTPESearch,
    "nsga2": NSGA2Search,
}

__all__ = ["STRATEGIES", "SearchPlan", "SearchRequest", "Strategy", "get_strategy", "make_search"]


FIELD = "search.strategy"


def get_strategy(name: str | Callable[[], Strategy]) -> Strategy:
    """A registry name, or a `Strategy` subclass (or a callable returning a `Strategy`) named by
    import path (`mypkg.search:MyStrategy`) or given directly; anything else is a one-line error."""
    found = resolve(name, STRATEGIES, FIELD, "strategy")
    label = repr(name) if isinstance(name, str) else getattr(name, "__qualname__", repr(name))
    if isinstance(found, type):
        if not issubclass(found, Strategy):
            raise ConfigError(FIELD, f"{label} is not a Strategy subclass; subclass autolearn.search.Strategy")
        if inspect.isabstract(found):
            missing = ", ".join(sorted(getattr(found, "__abstractmethods__", ())))
            raise ConfigError(FIELD, f"{label} is abstract: it does not define {missing}")
    required = _required(found)
    if required:
        raise ConfigError(FIELD, f"{label} is called without arguments, but it requires {required[0]!r}")
    strategy = found()
    if not isinstance(strategy, Strategy):
        raise ConfigError(FIELD, f"{label} returned a {type(strategy).__name__}, not a Strategy")
    return strategy


def make_search(strategy: str | Callable[[], Strategy], space: SearchSpace, metric: str, mode: str,
                seed: int | None = None, *, num_samples: int = 10, max_concurrent: int | None = None,
                points_to_evaluate: Sequence[Mapping[str, Any]] = (), objectives: Sequence[Any] = (),
                constraints: Sequence[Any] = (), **options: Any) -> SearchPlan:
    """Check and build a strategy in one call (the Python API; the runner does the same).

    `objectives` (MetricSpecs or `{name, mode}` dicts, the primary first: `metric`/`mode` are taken
    from it) and `constraints` (ConstraintSpecs or dicts) are those of a spec's list `metric:` and
    `constraints:`."""
    from autolearn.config.objectives import read_constraints, read_objectives

    specs = read_objectives(list(objectives)) if objectives else ()
    if specs:
        metric, mode = specs[0].name, specs[0].mode
    request = SearchRequest(space=space, metric=metric, mode=mode, num_samples=num_samples, seed=seed,
                            max_concurrent=max_concurrent, points_to_evaluate=tuple(points_to_evaluate),
                            options=options, objectives=specs, constraints=read_constraints(list(constraints)))
    chosen = get_strategy(strategy)
    chosen.check(request)
    return chosen.build(request)


def _required(fn: Callable[..., Any]) -> list[str]:
    """The arguments `fn` cannot be called without."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: let the call say
        return []
    return [p.name for p in parameters if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

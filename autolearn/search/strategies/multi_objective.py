"""`motpe` and `nsga2`: searches that model every objective and the constraints, on Optuna.

Why Optuna and not a scalarisation of our own on `tpe`/`gp` (ParEGO: a random weighting of the
objectives per suggestion): Optuna's samplers handle several objectives and constraints natively
and are maintained and tested as such (MOTPE, NSGA-II, `constraints_func`); a scalarisation on
hyperopt would replay its whole history under new weights at every suggestion and lose hyperopt's
pending-trial handling. The cost is one optional dependency: `pip install 'autolearn[optuna]'`
(sqlalchemy, alembic, colorlog come with it), which sweeps that never ask for these strategies do
not need; without it, naming one is a load-time error that says what to install.

`motpe` suits small budgets (random for `n_initial_points`, 10 by default, then modelled);
`nsga2` is evolutionary and random for its whole first generation (`population_size`, default
50), so it pays off only with budgets of several generations. docs/BENCHMARKS.md compares them.
"""
from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

from autolearn.config.space import SearchSpace
from autolearn.errors import ConfigError
from autolearn.search.strategies.base import SearchRequest
from autolearn.search.strategies.sequential import ModelBasedStrategy, OptionCheck, positive_int


def _population(value: Any, path: str) -> int:
    out = positive_int(value, path)
    if out < 2:
        raise ConfigError(path, f"must be >= 2 (NSGA-II breeds from pairs), got {out}")
    return out


class _OptunaStrategy(ModelBasedStrategy):
    multi_objective = True
    native_constraints = True
    sampler: ClassVar[str] = "tpe"

    def check(self, request: SearchRequest) -> None:
        if importlib.util.find_spec("optuna") is None:
            raise ConfigError("search.strategy", f"strategy {self.name!r} runs on Optuna, which is not installed; "
                              "pip install 'autolearn[optuna]' (or optuna), or use random, tpe or gp")
        super().check(request)

    def make_searcher(self, request: SearchRequest, space: SearchSpace, seed: int | None,
                      points: list[dict[str, Any]], options: dict[str, Any]) -> Any:
        from autolearn.search.strategies.optuna_searcher import OptunaSearcher

        return OptunaSearcher(space, request.all_objectives, request.constraints, sampler=self.sampler,
                              points_to_evaluate=points, n_initial_points=options.get("n_initial_points", 10),
                              population_size=options.get("population_size"), seed=seed)


class MOTPESearch(_OptunaStrategy):
    """Options: `n_initial_points` (random trials before TPE models, default 10)."""

    name = "motpe"
    options: ClassVar[dict[str, OptionCheck]] = {"n_initial_points": positive_int}


class NSGA2Search(_OptunaStrategy):
    """Options: `population_size` (trials per generation, default 50; the first is random)."""

    name = "nsga2"
    sampler = "nsga2"
    options: ClassVar[dict[str, OptionCheck]] = {"population_size": _population}

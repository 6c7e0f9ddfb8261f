"""`gp`: Gaussian-process Bayesian optimisation on bayesian-optimization >= 3 (see `gp_searcher.py`)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from autolearn.config.space import SearchSpace
from autolearn.errors import ConfigError, allowed
from autolearn.search.strategies.base import SearchRequest
from autolearn.search.strategies.sequential import ModelBasedStrategy, OptionCheck, non_negative, positive_int

ACQUISITIONS = ("ucb", "ei", "pi")
ACQUISITION_PARAMETER = {"ucb": "kappa", "ei": "xi", "pi": "xi"}


def _acquisition(value: Any, path: str) -> str:
    name = str(value).lower() if isinstance(value, str) else value
    if name not in ACQUISITIONS:
        raise ConfigError(path, f"unknown acquisition function {value!r}; allowed: {allowed(ACQUISITIONS)}")
    return name


class GPSearch(ModelBasedStrategy):
    """Options: `n_initial_points` (random trials before the GP models, default 5), `acquisition`
    (`ei` default, `ucb`, `pi`) with its parameter: `xi` for ei/pi (default 0.01), `kappa` for ucb
    (default 2.576, higher explores more). EI is the default because it measured better: on Branin
    UCB(2.576) ended 50 evaluations at regret 0.08-0.17, EI at 1e-4-6e-3 (benchmarks/search_quality.py)."""

    name = "gp"
    options: ClassVar[dict[str, OptionCheck]] = {"n_initial_points": positive_int, "acquisition": _acquisition,
                                                  "kappa": non_negative, "xi": non_negative}

    def read_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        out = super().read_options(options)
        acquisition = out.get("acquisition", "ei")
        for key in ("kappa", "xi"):
            if key in out and ACQUISITION_PARAMETER[acquisition] != key:
                raise ConfigError(f"search.{key}", f"{key} is a parameter of acquisition "
                                  f"{'ucb' if key == 'kappa' else 'ei/pi'}, but acquisition is "
                                  f"{acquisition!r}; use {ACQUISITION_PARAMETER[acquisition]}")
        return out

    def make_searcher(self, request: SearchRequest, space: SearchSpace, seed: int | None,
                      points: list[dict[str, Any]], options: dict[str, Any]) -> Any:
        from autolearn.search.strategies.gp_searcher import GPSearcher

        return GPSearcher(space, request.metric, request.mode, points_to_evaluate=points,
                          n_initial_points=options.get("n_initial_points", 5),
                          acquisition=options.get("acquisition", "ei"), kappa=options.get("kappa", 2.576),
                          xi=options.get("xi", 0.01), seed=seed)

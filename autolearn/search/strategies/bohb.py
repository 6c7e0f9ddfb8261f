"""`bohb`: model-based multi-fidelity search, TPE on the rungs of ASHA/Hyperband (`bohb_searcher.py`).

It learns from every intermediate result, so it needs a scheduler that produces them at several
budgets and stops the poor trials: `asha` (or `hyperband`, `median`). With `fifo` every trial runs
its full budget and bohb is a slower `tpe`; with `pbt`/`pb2` the scheduler rewrites the configs
bohb proposed. Both pairings are a load-time error (`search/pairing.py`), not a silent change of
the scheduler the spec named.
"""
from __future__ import annotations

from typing import Any, ClassVar

from autolearn.config.space import SearchSpace, as_number
from autolearn.errors import ConfigError
from autolearn.search.strategies.base import SearchRequest
from autolearn.search.strategies.sequential import ModelBasedStrategy, OptionCheck, positive_int


def _fraction(value: Any, path: str, *, low_open: bool = True) -> float:
    out = float(as_number(value, path))
    if not ((out > 0.0 if low_open else out >= 0.0) and out < 1.0):
        raise ConfigError(path, f"must be {'>' if low_open else '>='} 0 and < 1, got {out}")
    return out


def _random_fraction(value: Any, path: str) -> float:
    return _fraction(value, path, low_open=False)


def _at_least_two(value: Any, path: str) -> int:
    out = positive_int(value, path)
    if out < 2:
        raise ConfigError(path, f"must be >= 2 (the model splits them into good and bad), got {out}")
    return out


def _bandwidth_factor(value: Any, path: str) -> float:
    out = float(as_number(value, path))
    if out <= 0:
        raise ConfigError(path, f"must be > 0, got {out}")
    return out


class BOHBSearch(ModelBasedStrategy):
    """Options (BOHB's defaults but one): `min_points` (observations a budget needs before it is
    modelled, default 2(d + 1) for d searched parameters; BOHB's d + 1 steers too little, see
    `bohb_searcher.py`), `top_fraction` (share of configs in the good density, 0.15),
    `random_fraction` (share of uniformly random proposals, 1/3), `n_candidates` (draws scored by
    l/g, 64), `bandwidth_factor` (how much wider the draws are than the good density, 3)."""

    name = "bohb"
    options: ClassVar[dict[str, OptionCheck]] = {
        "min_points": _at_least_two, "top_fraction": _fraction, "random_fraction": _random_fraction,
        "n_candidates": positive_int, "bandwidth_factor": _bandwidth_factor}

    def make_searcher(self, request: SearchRequest, space: SearchSpace, seed: int | None,
                      points: list[dict[str, Any]], options: dict[str, Any]) -> Any:
        from autolearn.search.strategies.bohb_searcher import BOHBSearcher

        return BOHBSearcher(space, request.metric, request.mode, points_to_evaluate=points, seed=seed, **options)

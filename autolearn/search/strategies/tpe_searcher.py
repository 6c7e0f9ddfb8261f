"""hyperopt's TPE as a Ray Tune searcher, fed from autolearn's `SearchSpace` directly.

Ray's `HyperOptSearch` does the bookkeeping (trials, seeding, `points_to_evaluate`, save/restore);
what it gets wrong for us is fixed here, in one place:

- the space is built from our `Param`s, not from Ray domains: every parameter is a numeric hyperopt
  label (a value, or an index into the parameter's values) that `decode` maps back to an exact,
  in-bounds, plain-Python value. Ints are `quniform(low - .5, high + .5)` so both inclusive ends get
  their full share (Ray's conversion halves them); stepped ranges are an ordered index, so `step`
  is counted from `low` (hyperopt's `q` counts from 0); choices are `randint` indices (TPE treats
  them as categorical), so any value type works, and `points_to_evaluate` are encoded by us.
- a trial that diverged, reported NaN/inf or no metric is recorded as failed, which hyperopt's TPE
  (0.3) scores as an infinite loss, i.e. worse than anything seen: NaN never reaches its sort.
  Pending trials are scored the same way while they run (hyperopt's own constant liar).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hyperopt import hp
from ray.tune.search.hyperopt import HyperOptSearch

from autolearn.config.space import ChoiceParam, FloatParam, IntParam, Param, SearchSpace
from autolearn.search.strategies.sequential import score_of


def is_constant(p: Param) -> bool:
    values = p.grid_values()
    return (values is not None and len(values) == 1) or (isinstance(p, FloatParam) and p.low == p.high)


def _stepped(p: Param) -> bool:
    return isinstance(p, ChoiceParam) or (isinstance(p, FloatParam) and p.step is not None) or (
        isinstance(p, IntParam) and p.step != 1)


def hyperopt_dim(name: str, p: Param) -> Any:
    """The hyperopt expression of one (non-constant) parameter; see the module doc for the encoding."""
    if isinstance(p, ChoiceParam):
        return hp.randint(name, len(p.values))
    if _stepped(p):
        return hp.quniform(name, -0.5, len(p.grid_values() or ()) - 0.5, 1)
    if isinstance(p, IntParam):
        if p.log:
            return hp.qloguniform(name, math.log(p.low - 0.5), math.log(p.high + 0.5), 1)
        return hp.quniform(name, p.low - 0.5, p.high + 0.5, 1)
    if isinstance(p, FloatParam):
        return hp.loguniform(name, math.log(p.low), math.log(p.high)) if p.log else hp.uniform(name, p.low, p.high)
    raise TypeError(f"no hyperopt encoding for {p!r}")


def encode(p: Param, value: Any) -> Any:
    """A config value → the raw hyperopt label value (`points_to_evaluate`)."""
    if _stepped(p):
        values = p.grid_values() or []
        if isinstance(p, ChoiceParam):
            return values.index(value)  # randint labels are ints (TPE indexes with them)
        return float(min(range(len(values)), key=lambda i: abs(values[i] - value)))
    return float(value)


def decode(p: Param, raw: Any) -> Any:
    """A raw hyperopt label value → an exact, in-bounds, plain-Python config value."""
    values = p.grid_values()
    if _stepped(p) or is_constant(p):
        index = 0 if is_constant(p) else min(max(int(round(float(raw))), 0), len(values or ()) - 1)
        return (values or [p.low])[index]  # type: ignore[attr-defined]
    if isinstance(p, IntParam):
        return int(min(max(round(float(raw)), p.low), p.high))
    return float(min(max(float(raw), p.low), p.high))  # type: ignore[attr-defined]


class TPESearcher(HyperOptSearch):
    """`HyperOptSearch` over an autolearn space: exact decoding and NaN-safe scores (module doc)."""

    def __init__(self, space: SearchSpace, metric: str, mode: str, *, points_to_evaluate: list[dict] = (),
                 n_initial_points: int = 20, gamma: float = 0.25, seed: int | None = None) -> None:
        self._params = space
        searched = {n: p for n, p in space.items() if not is_constant(p)}
        points = [{n: encode(p, point[n]) for n, p in searched.items()} for point in points_to_evaluate]
        super().__init__(space={n: hyperopt_dim(n, p) for n, p in searched.items()}, metric=metric, mode=mode,
                         points_to_evaluate=points or None, n_initial_points=n_initial_points,
                         random_state_seed=seed, gamma=gamma)

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        raw = super().suggest(trial_id)
        if raw is None or raw == self.FINISHED:
            return raw
        return {n: decode(p, raw.get(n, 0)) for n, p in self._params.items()}

    def _to_hyperopt_result(self, result: Mapping[str, Any]) -> dict[str, Any]:
        score = score_of(result, self.metric)
        if score is None:
            return {"status": "fail"}
        return {"loss": self.metric_op * score, "status": "ok"}

"""Several objectives and constraints: `metric:` as a list, and `constraints:` bounds on metrics.

`metric: [{name: val_accuracy, mode: max}, {name: n_params, mode: min}]` asks for a Pareto front.
The first entry is the primary objective: `Experiment.metric` stays that one `MetricSpec`, so
everything that needs one number (the scheduler's early stopping, the progress line, `best`,
checkpoint ranking) keeps working and reads the first objective; `Experiment.objectives` holds
them all. `constraints: [{metric: n_params, max: 100000}]` bounds a metric (inclusive `min` and/or
`max`); a trial whose last report breaks a bound is `infeasible`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autolearn.config.fields import _fields_of, _float
from autolearn.config.sections import MetricSpec
from autolearn.errors import ConfigError

__all__ = ["ConstraintSpec", "read_constraints", "read_objectives"]


@dataclass(frozen=True)
class ConstraintSpec:
    """An inclusive bound on a reported metric: `min <= value <= max` (either may be None)."""

    metric: str
    min: float | None = None
    max: float | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "constraints[0]") -> ConstraintSpec:
        if isinstance(data, ConstraintSpec):
            return data
        data = _fields_of(cls, data, path)
        name = data.get("metric")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{path}.metric", f"expected the name of a reported metric, got {name!r}")
        low = None if data.get("min") is None else _float(data["min"], f"{path}.min")
        high = None if data.get("max") is None else _float(data["max"], f"{path}.max")
        if low is None and high is None:
            raise ConfigError(path, f"a constraint on {name!r} needs a bound: min, max or both")
        if low is not None and high is not None and low > high:
            raise ConfigError(path, f"min must be <= max (min={low}, max={high})")
        return cls(name, low, high)

    def violation(self, value: Any) -> float:
        """How far `value` lies outside the bounds (0.0 inside; inf when it is missing or not finite)."""
        try:
            x = float(value)
        except (TypeError, ValueError):
            return math.inf
        if not math.isfinite(x):
            return math.inf
        below = (self.min - x) if self.min is not None else 0.0
        above = (x - self.max) if self.max is not None else 0.0
        return max(0.0, below, above)

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, **({"min": self.min} if self.min is not None else {}),
                **({"max": self.max} if self.max is not None else {})}


def read_objectives(data: Any, path: str = "metric") -> tuple[MetricSpec, ...]:
    """`metric:` as one metric (a name or a mapping) or a non-empty list of them, names unique."""
    if isinstance(data, (list, tuple)):
        if not data:
            raise ConfigError(path, "an empty list; give at least one {name: ..., mode: min|max}")
        out = tuple(MetricSpec.from_dict(item, f"{path}[{i}]") for i, item in enumerate(data))
    else:
        out = (MetricSpec.from_dict(data, path),)
    seen: set[str] = set()
    for i, spec in enumerate(out):
        if spec.name in seen:
            raise ConfigError(f"{path}[{i}].name", f"{spec.name!r} is listed twice; each objective once")
        seen.add(spec.name)
    return out


def read_constraints(data: Any, path: str = "constraints") -> tuple[ConstraintSpec, ...]:
    """`constraints:` as a list of `{metric, min?, max?}` (None: no constraints)."""
    if data is None:
        return ()
    if not isinstance(data, (list, tuple)):
        raise ConfigError(path, f"expected a list of {{metric: ..., min: ..., max: ...}}, got {data!r}")
    return tuple(ConstraintSpec.from_dict(item, f"{path}[{i}]") for i, item in enumerate(data))


def violations(metrics: Mapping[str, Any], constraints: Sequence[ConstraintSpec]) -> list[float]:
    """Each constraint's violation (0.0 when met) for one trial's report."""
    return [c.violation(metrics.get(c.metric)) for c in constraints]


def is_feasible(metrics: Mapping[str, Any], constraints: Sequence[ConstraintSpec]) -> bool:
    return all(v == 0.0 for v in violations(metrics, constraints))

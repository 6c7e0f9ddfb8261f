"""The one encoding of a search space: a parameter's values ↔ the numbers a model searches.

Every model-based strategy (`tpe`, `gp`) and the report (importance, plots) place values through
this module, so "where does this value sit" has one answer. Each parameter becomes a `Dimension`,
a number line with one of four kinds:

- `float`: the value itself, or its log for `log: true`;
- `int`: the same, over [low - 0.5, high + 0.5], so that rounding gives both inclusive ends a full
  share of the line (a plain [low, high] gives each end half a share);
- `ordinal`: a stepped float or int, by its index into the step grid, over [-0.5, n - 0.5]: `step`
  is exact and counted from `low` (hyperopt's `q` counts from 0);
- `categorical`: a choice, by its index; unordered, so a model that needs numbers should one-hot it.

Decoding rounds onto the grid, clips into the bounds and returns the parameter's own plain Python
value, so any number a model proposes is a valid config. `to_unit`/`from_unit` scale the line to
[0, 1] (one length scale then fits every dimension), and `SpaceEncoding.to_cube` lays a whole
config out in [0, 1]^d with choices one-hot. `half_step=False` puts the end values on the ends of
the line instead (plots). A parameter with a single value is constant: not searched, filled in.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from autolearn.config.space import ChoiceParam, FloatParam, IntParam, Param
from autolearn.values import is_finite_number, plain

Kind = Literal["float", "int", "ordinal", "categorical"]
INDEXED = ("ordinal", "categorical")  # searched by an index into `values`


@dataclass(frozen=True)
class Dimension:
    """One parameter on its number line [low, high] (log-scaled, or an index; module doc)."""

    name: str
    param: Param
    kind: Kind
    log: bool
    low: float
    high: float
    values: tuple[Any, ...] = ()  # the step grid of an ordinal, the choices of a categorical

    @property
    def constant(self) -> bool:
        """A single possible value: nothing to search."""
        if self.kind in INDEXED:
            return len(self.values) == 1
        return self.param.low == self.param.high  # type: ignore[attr-defined]

    @property
    def constant_value(self) -> Any:
        return self.values[0] if self.kind in INDEXED else self.nearest(self.param.low)  # type: ignore[attr-defined]

    @property
    def width(self) -> int:
        """Columns in the unit cube: one per choice of a categorical, else one."""
        return len(self.values) if self.kind == "categorical" else 1

    def encodable(self, value: Any) -> bool:
        """Whether `to_internal` can place `value`: a choice or grid value of this parameter, or any
        finite number for a range (positive on a log line), in bounds or not."""
        if self.kind in INDEXED:
            return self.param.contains(value)
        value = plain(value)
        return is_finite_number(value) and (not self.log or value > 0)

    def to_internal(self, value: Any) -> float | int:
        """A value → its place on the line (an int index for a choice, a float otherwise)."""
        if self.kind == "categorical":
            return _index_of(self.values, plain(value), self.name)
        if self.kind == "ordinal":
            return float(min(range(len(self.values)), key=lambda i: abs(self.values[i] - value)))
        return math.log(value) if self.log else float(value)

    def from_internal(self, x: Any) -> Any:
        """Any number on the line → the exact, in-bounds, plain value there."""
        if self.kind in INDEXED:
            return self.values[min(max(int(round(float(x))), 0), len(self.values) - 1)]
        return self.nearest(math.exp(x) if self.log else x)

    def nearest(self, value: Any) -> Any:
        """A number on the parameter's own scale → its nearest valid value (rounded, clipped)."""
        if self.kind in INDEXED:
            return self.values[int(self.to_internal(value))]
        if self.kind == "int":
            return int(min(max(round(float(value)), self.param.low), self.param.high))  # type: ignore[attr-defined]
        return float(min(max(float(value), self.param.low), self.param.high))  # type: ignore[attr-defined]

    def to_unit(self, value: Any) -> float:
        """A value → [0, 1] along the line (0.5 when the line has no length)."""
        x = self.to_internal(value)
        return (x - self.low) / (self.high - self.low) if self.high > self.low else 0.5

    def from_unit(self, u: Any) -> Any:
        return self.from_internal(self.low + float(u) * (self.high - self.low))

    def one_hot(self, value: Any) -> list[float]:
        """Unit-cube columns: one per choice (1 at the value's) for a categorical, else `[to_unit]`."""
        if self.kind != "categorical":
            return [self.to_unit(value)]
        index = self.to_internal(value)
        return [1.0 if i == index else 0.0 for i in range(len(self.values))]

    def from_one_hot(self, columns: Sequence[float]) -> Any:
        """The inverse of `one_hot`: the choice with the largest weight (the first on a tie)."""
        if self.kind != "categorical":
            return self.from_unit(columns[0])
        return self.values[max(range(len(self.values)), key=lambda i: columns[i])]


def _index_of(values: Sequence[Any], value: Any, name: str) -> int:
    """Its position, matching the type first: `True == 1`, but `True` is not the choice `1`."""
    for i, v in enumerate(values):
        if v == value and type(v) is type(value):
            return i
    for i, v in enumerate(values):
        if v == value:
            return i
    raise ValueError(f"{value!r} is not one of the values of {name!r}: {list(values)}")


def _kind(p: Param) -> Kind:
    if isinstance(p, ChoiceParam):
        return "categorical"
    if isinstance(p, IntParam):
        return "int" if p.step == 1 else "ordinal"
    if isinstance(p, FloatParam):
        return "float" if p.step is None else "ordinal"
    raise TypeError(f"no encoding for parameter type {type(p).__name__}")


def dimension(name: str, param: Param, *, half_step: bool = True) -> Dimension:
    """The number line of one parameter; `half_step` widens discrete lines by half a step a side."""
    kind = _kind(param)
    pad = 0.5 if half_step else 0.0
    if kind in INDEXED:
        values = tuple(param.grid_values() or ())
        return Dimension(name, param, kind, False, -pad, len(values) - 1 + pad, values)
    low, high = param.low, param.high  # type: ignore[attr-defined]
    if kind == "int":
        low, high = low - pad, high + pad
    log = bool(param.log)  # type: ignore[attr-defined]
    if log:
        low, high = math.log(low), math.log(high)
    return Dimension(name, param, kind, log, float(low), float(high))


class SpaceEncoding:
    """A whole space: its searched dimensions in space order, and the constants decoding fills in."""

    def __init__(self, space: Mapping[str, Param], *, half_step: bool = True) -> None:
        self.dimensions = {name: dimension(name, p, half_step=half_step) for name, p in space.items()}
        self.searched = {name: d for name, d in self.dimensions.items() if not d.constant}

    @property
    def width(self) -> int:
        """The dimension of the unit cube `to_cube` maps into (choices one-hot)."""
        return sum(d.width for d in self.searched.values())

    def complete(self, searched: Mapping[str, Any]) -> dict[str, Any]:
        """Decoded values of the searched parameters → a full config in space order (a searched
        parameter left out, inactive under a `when:` condition, stays out)."""
        return {name: searched.get(name, d.constant_value)
                for name, d in self.dimensions.items() if name in searched or name not in self.searched}

    def encode(self, config: Mapping[str, Any]) -> dict[str, float | int]:
        """A config → each searched parameter's place on its line."""
        return {name: d.to_internal(config[name]) for name, d in self.searched.items()}

    def decode(self, internal: Mapping[str, Any]) -> dict[str, Any]:
        return self.complete({name: d.from_internal(internal[name]) for name, d in self.searched.items()})

    def to_cube(self, config: Mapping[str, Any]) -> list[float]:
        """A config → a point of [0, 1]^width, choices one-hot."""
        return [x for name, d in self.searched.items() for x in d.one_hot(config[name])]

    def from_cube(self, point: Sequence[float]) -> dict[str, Any]:
        """Any point of [0, 1]^width → a valid config (argmax for each choice's columns)."""
        if len(point) != self.width:
            raise ValueError(f"expected a point with {self.width} coordinates, got {len(point)}")
        out, start = {}, 0
        for name, d in self.searched.items():
            out[name] = d.from_one_hot(point[start:start + d.width])
            start += d.width
        return self.complete(out)

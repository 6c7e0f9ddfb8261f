"""The one search-space language: parameters are declared once, every strategy reads them.

Each parameter is a small frozen value object that validates itself on construction (messages carry
the values), round-trips through a plain dict (the YAML form), and converts to a Ray Tune domain in
exactly one place (`to_tune`). Bounds are inclusive for every type, unlike Ray's `randint`.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from autolearn.config.conditions import Condition, active_combinations, check_conditions, parse_when, prune
from autolearn.errors import ConfigError, allowed
from autolearn.values import plain

MAX_GRID_POINTS = 10_000  # a grid larger than this is almost always a typo in a range
AUTO_RANGE = (1e-7, 10.0)  # the rates an LR range test sweeps unless `low`/`high` say otherwise


def as_number(value: Any, path: str, *, integer: bool = False) -> float | int:
    """Read a number the way users write it: PyYAML leaves `1e-4` (no dot) as a string."""
    if isinstance(value, bool):
        raise ConfigError(path, f"expected a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(path, f"expected a number, got {value!r}") from None
    if not isinstance(value, (int, float)):
        raise ConfigError(path, f"expected a number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ConfigError(path, f"expected a finite number, got {value!r}")
    if integer:
        if float(value) != int(value):
            raise ConfigError(path, f"expected an integer, got {value!r}")
        return int(value)
    return float(value)


@dataclass(frozen=True)
class Param:
    """Base of every parameter type; `kind` is its name in the dict form."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_tune(self) -> Any:
        """The Ray Tune domain that samples this parameter."""
        raise NotImplementedError

    def grid_values(self) -> list[Any] | None:
        """Every value, when the parameter is finite (None for continuous ranges)."""
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class FloatParam(Param):
    """A real range `[low, high]`: uniform, log-uniform (`log`, for rates and decays spanning
    decades) or on a grid of `step`."""

    low: float
    high: float
    log: bool = False
    step: float | None = None
    auto: bool = False  # lr only: the LR range test sets the bounds before the sweep (training/lr_finder.py)
    kind: ClassVar[str] = "float"

    def __post_init__(self) -> None:
        _check_range(self)
        if self.auto and self.step is not None:
            raise ConfigError("auto", "an auto range is log-uniform; remove step")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "float", "low": self.low, "high": self.high, "log": self.log}
        if self.step is not None:
            out["step"] = self.step
        if self.auto:
            out["auto"] = True
        return out

    def to_tune(self) -> Any:
        from ray import tune

        if self.step is not None:
            return tune.quniform(self.low, self.high, self.step)
        return tune.loguniform(self.low, self.high) if self.log else tune.uniform(self.low, self.high)

    def grid_values(self) -> list[Any] | None:
        if self.step is None:
            return None
        n = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
        return [round(self.low + i * self.step, 12) for i in range(n)]

    def contains(self, value: Any) -> bool:
        value = plain(value)
        return isinstance(value, (int, float)) and not isinstance(value, bool) and (
            self.low - 1e-12 * abs(self.low) <= value <= self.high + 1e-12 * abs(self.high))


@dataclass(frozen=True)
class IntParam(Param):
    """An integer range `[low, high]`, both ends included (unlike Ray's `randint`), optionally
    log-spaced or in steps."""

    low: int
    high: int
    log: bool = False
    step: int = 1
    kind: ClassVar[str] = "int"

    def __post_init__(self) -> None:
        _check_range(self)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "int", "low": self.low, "high": self.high, "log": self.log}
        if self.step != 1:
            out["step"] = self.step
        return out

    def to_tune(self) -> Any:
        from ray import tune

        # Ray excludes the upper bound of randint; ours are inclusive.
        if self.step != 1:
            return tune.choice(self.grid_values())
        return tune.lograndint(self.low, self.high + 1) if self.log else tune.randint(self.low, self.high + 1)

    def grid_values(self) -> list[Any]:  # always finite
        return list(range(self.low, self.high + 1, self.step))

    def contains(self, value: Any) -> bool:
        value = plain(value)
        return (isinstance(value, int) and not isinstance(value, bool)
                and self.low <= value <= self.high and (value - self.low) % self.step == 0)


@dataclass(frozen=True)
class ChoiceParam(Param):
    """An unordered set of values, sampled by every strategy (and enumerated by `grid`)."""

    values: tuple[Any, ...]
    kind: ClassVar[str] = "choice"

    def __post_init__(self) -> None:
        _check_values(self)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "values": list(self.values)}

    def to_tune(self) -> Any:
        from ray import tune

        return tune.choice(list(self.values))

    def grid_values(self) -> list[Any] | None:
        return list(self.values)

    def contains(self, value: Any) -> bool:
        return plain(value) in self.values


@dataclass(frozen=True)
class GridParam(ChoiceParam):
    """Values that every strategy tries exhaustively: each one is crossed with the rest of the search."""

    kind: ClassVar[str] = "grid"

    def to_tune(self) -> Any:
        from ray import tune

        return tune.grid_search(list(self.values))


def _check_range(p: FloatParam | IntParam) -> None:
    """Raise with the local key ("low", "step"); `param_from_dict` prefixes the field path."""
    if p.low > p.high:
        raise ConfigError("low", f"`low` must be <= `high` (low={p.low}, high={p.high})")
    if p.log and p.low <= 0:
        raise ConfigError("low", f"a log-scaled range needs low > 0 (low={p.low}); "
                          "use log: false or a positive lower bound")
    if p.step is not None and p.step <= 0:
        raise ConfigError("step", f"step must be > 0 (step={p.step})")
    if p.log and (p.step or 1) != 1 or (p.log and isinstance(p, FloatParam) and p.step is not None):
        raise ConfigError("step", "step cannot be combined with log: true")


def _check_values(p: ChoiceParam) -> None:
    if not p.values:
        raise ConfigError("values", f"a {p.kind} needs at least one value, got an empty list")
    if len(set(map(repr, p.values))) != len(p.values):
        raise ConfigError("values", f"values repeat: {list(p.values)}")


_FIELDS = {
    "float": {"type", "low", "high", "log", "step", "auto"},
    "int": {"type", "low", "high", "log", "step"},
    "choice": {"type", "values"},
    "grid": {"type", "values"},
}


def param_from_dict(data: Any, path: str) -> Param:
    """Build one parameter from its dict form, naming `path` in every error."""
    if not isinstance(data, Mapping):
        raise ConfigError(path, f"expected a mapping like {{type: float, low: .., high: ..}}, got {data!r}")
    kind = data.get("type")
    if kind not in _FIELDS:
        raise ConfigError(f"{path}.type", f"unknown parameter type {kind!r}; allowed: {allowed(_FIELDS)}")
    unknown = set(data) - _FIELDS[kind]
    if unknown:
        raise ConfigError(f"{path}.{sorted(unknown)[0]}",
                          f"unknown key for a {kind} parameter; allowed: {allowed(_FIELDS[kind])}")
    try:
        if kind in ("choice", "grid"):
            values = data.get("values")
            if not isinstance(values, (list, tuple)):
                raise ConfigError(f"{path}.values", f"expected a list of values, got {values!r}")
            cls = GridParam if kind == "grid" else ChoiceParam
            return cls(tuple(plain(v) for v in values))
        auto = data.get("auto", False)
        if not isinstance(auto, bool):
            raise ConfigError(f"{path}.auto", f"expected true or false, got {auto!r}")
        if auto:  # low/high, when given, bound the range test; the sweep's bounds come from it
            data = {"low": AUTO_RANGE[0], "high": AUTO_RANGE[1], "log": True, **data}
        for key in ("low", "high"):
            if key not in data:
                raise ConfigError(f"{path}.{key}", f"a {kind} parameter needs `{key}`")
        log = data.get("log", False)
        if not isinstance(log, bool):
            raise ConfigError(f"{path}.log", f"expected true or false, got {log!r}")
        integer = kind == "int"
        low = as_number(data["low"], f"{path}.low", integer=integer)
        high = as_number(data["high"], f"{path}.high", integer=integer)
        step = data.get("step")
        if step is not None:
            step = as_number(step, f"{path}.step", integer=integer)
        if integer:
            return IntParam(int(low), int(high), log, int(step) if step is not None else 1)
        return FloatParam(float(low), float(high), log, step, auto)
    except ConfigError as err:
        if err.path.startswith(path):
            raise
        raise ConfigError(f"{path}.{err.path}", err.problem) from None


class SearchSpace(Mapping[str, Param]):
    """An ordered, immutable mapping of parameter name → `Param`, with the `when:` conditions
    that make some parameters exist only under others (`config/conditions.py`)."""

    def __init__(self, params: Mapping[str, Param] | None = None,
                 conditions: Mapping[str, Condition | Mapping[str, Any]] | None = None) -> None:
        self._params: dict[str, Param] = dict(params or {})
        for name, p in self._params.items():
            if not isinstance(p, Param):
                raise ConfigError(f"space.{name}", f"expected a Param (FloatParam, IntParam, ...), got {p!r}")
        self.conditions: dict[str, Condition] = {
            str(name): parse_when(c, f"space.{name}.when") for name, c in (conditions or {}).items()}
        check_conditions(self._params, self.conditions)

    @classmethod
    def from_dict(cls, data: Any, path: str = "space") -> SearchSpace:
        if data is None:
            return cls()
        if isinstance(data, SearchSpace):
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(path, f"expected a mapping of name → parameter, got {data!r}")
        params: dict[str, Param] = {}
        conditions: dict[str, Condition] = {}
        for name, spec in data.items():
            if isinstance(spec, Mapping) and "when" in spec:
                conditions[str(name)] = parse_when(spec["when"], f"{path}.{name}.when")
                spec = {k: v for k, v in spec.items() if k != "when"}
            if isinstance(spec, Param):
                params[str(name)] = spec
            else:
                params[str(name)] = param_from_dict(spec, f"{path}.{name}")
        return cls(params, conditions)

    def with_params(self, params: Mapping[str, Param]) -> SearchSpace:
        """The same conditions over changed parameters (a resolved `lr: {auto: true}`, a scaled range)."""
        return SearchSpace(params, {n: c for n, c in self.conditions.items() if n in params})

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {name: {**p.to_dict(), **({"when": self.conditions[name].to_dict()} if name in self.conditions
                                         else {})} for name, p in self._params.items()}

    def to_tune(self) -> dict[str, Any]:
        """Ray Tune's `param_space` form, for the strategies that sample through Ray's generator
        (an unconditional space only: Ray's generator samples every key)."""
        return {name: p.to_tune() for name, p in self._params.items()}

    def grid_size(self) -> int:
        """How many combinations the `grid` parameters alone make (1 when there are none); with
        conditions, only the combinations where every grid parameter given a value is active."""
        grids = {n: list(p.values) for n, p in self._params.items() if isinstance(p, GridParam)}
        if self.conditions:
            return len(active_combinations(grids, {n: c for n, c in self.conditions.items() if n in grids}))
        size = 1
        for values in grids.values():
            size *= len(values)
        return size

    def prune(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`config` without the parameters its own values make inactive (other keys are kept)."""
        return prune(config, self._params, self.conditions) if self.conditions else dict(config)

    def contains(self, config: Mapping[str, Any]) -> bool:
        """Every active parameter present and in range, every inactive one absent."""
        pruned = self.prune(config)
        for name, p in self._params.items():
            active = name not in self.conditions or self.conditions[name].holds(pruned)
            if active != (name in config) or (active and not p.contains(config[name])):
                return False
        return True

    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SearchSpace) and self._params == other._params
                and self.conditions == other.conditions)

    def __repr__(self) -> str:
        if self.conditions:
            return f"SearchSpace({self._params!r}, conditions={self.conditions!r})"
        return f"SearchSpace({self._params!r})"

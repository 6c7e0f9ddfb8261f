"""Conditional parameters: `when:` makes a parameter exist only under some values of another.

`momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: [momentum, nesterov]}}` means:
momentum is searched, and present in a trial's config, only when `optimizer` is `momentum` or
`nesterov`; otherwise it is *inactive*: absent from the config (the trainable then uses the spec's
default), never sampled, blank in `results.csv`. A condition may name several parents (all must
hold) and a parent may itself be conditional (nesting): a parameter is active when every parent is
active and takes one of the listed values.

Parents are `choice` or `grid` parameters: their values are listed, so "which values" is exact and
every strategy can branch on them. Everything here is load-time checked, with the field path
`space.<name>.when...`: unknown parents, a parameter conditional on itself, a value the parent
cannot take, and cycles.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from autolearn.errors import ConfigError, allowed
from autolearn.values import plain


def same_value(a: Any, b: Any) -> bool:
    """Equal and of the same kind: the choice `True` is not the choice `1`."""
    return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)


@dataclass(frozen=True)
class Condition:
    """Active when each named parent is active and one of its listed values (AND over parents)."""

    parents: tuple[tuple[str, tuple[Any, ...]], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.parents)

    def holds(self, config: Mapping[str, Any]) -> bool:
        """Whether the (already pruned) `config` activates the parameter: an absent parent is inactive."""
        return all(name in config and any(same_value(plain(config[name]), v) for v in values)
                   for name, values in self.parents)

    def to_dict(self) -> dict[str, list[Any]]:
        return {name: list(values) for name, values in self.parents}


def parse_when(data: Any, path: str) -> Condition:
    """`{parent: [values]}` (a single value may stand for a one-item list) → a `Condition`."""
    if isinstance(data, Condition):
        return data
    if not isinstance(data, Mapping) or not data:
        raise ConfigError(path, f"expected a mapping of parent parameter → values, like "
                          f"{{optimizer: [momentum, nesterov]}}, got {data!r}")
    parents = []
    for name, values in data.items():
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if not values:
            raise ConfigError(f"{path}.{name}", "expected at least one value of the parent, got an empty list")
        parents.append((str(name), tuple(plain(v) for v in values)))
    return Condition(tuple(parents))


def check_conditions(params: Mapping[str, Any], conditions: Mapping[str, Condition], path: str = "space") -> None:
    """Every load-time rule of the module doc; the first broken one is raised."""
    from autolearn.config.space import ChoiceParam

    for name, condition in conditions.items():
        where = f"{path}.{name}.when"
        if name not in params:
            raise ConfigError(f"{path}.{name}", f"a condition for a parameter the space does not have; "
                              f"the space has: {allowed(params)}")
        for parent, values in condition.parents:
            if parent == name:
                raise ConfigError(f"{where}.{parent}", f"{name!r} cannot be conditional on itself")
            if parent not in params:
                raise ConfigError(f"{where}.{parent}", f"unknown parent parameter {parent!r}; the space has: "
                                  f"{allowed(n for n in params if n != name)}")
            parent_param = params[parent]
            if not isinstance(parent_param, ChoiceParam):
                raise ConfigError(f"{where}.{parent}", f"a condition's parent must be a choice or grid "
                                  f"parameter (its values listed), but {parent!r} is of type {parent_param.kind}")
            for value in values:
                if not any(same_value(value, v) for v in parent_param.values):
                    raise ConfigError(f"{where}.{parent}", f"{value!r} is not a value of {parent!r}; "
                                      f"allowed: {list(parent_param.values)}")
    order(params, conditions, path)  # raises on a cycle


def order(names: Iterable[str], conditions: Mapping[str, Condition], path: str = "space") -> list[str]:
    """The names with every parent before its children (space order otherwise); a cycle raises."""
    names = list(names)
    done: dict[str, None] = {}
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = visiting[visiting.index(name):] + [name]
            raise ConfigError(f"{path}.{cycle[0]}.when", f"conditions form a cycle: {' -> '.join(cycle)}")
        visiting.append(name)
        for parent in conditions[name].names if name in conditions else ():
            if parent in names:
                visit(parent)
        visiting.pop()
        done[name] = None

    for name in names:
        visit(name)
    return list(done)


def prune(config: Mapping[str, Any], names: Iterable[str], conditions: Mapping[str, Condition]) -> dict[str, Any]:
    """`config` without its inactive parameters, in `names` order (keys outside `names` are kept)."""
    names = list(names)
    kept = {k: v for k, v in config.items() if k not in names}
    for name in order(names, conditions):
        if name in config and (name not in conditions or conditions[name].holds(kept)):
            kept[name] = config[name]
    return {**{n: kept[n] for n in names if n in kept}, **{k: v for k, v in kept.items() if k not in names}}


def active_combinations(values: Mapping[str, list[Any]], conditions: Mapping[str, Condition],
                        limit: int | None = None) -> list[dict[str, Any]]:
    """Every combination of the finite `values` where only active parameters take a value.

    Parents come first, so each partial combination decides its children: an inactive parameter
    neither multiplies the count nor appears in the combination (no duplicates to remove). The
    count never shrinks as parameters are added, so past `limit` the enumeration stops early and
    returns a partial list longer than `limit` (a typo'd range must not exhaust memory first).
    """
    combos: list[dict[str, Any]] = [{}]
    for name in order(values, conditions):
        grown = []
        for combo in combos:
            if name in conditions and not conditions[name].holds(combo):
                grown.append(combo)
            else:
                grown += [{**combo, name: v} for v in values[name]]
            if limit is not None and len(grown) > limit:
                return grown
        combos = grown
    return [{n: c[n] for n in values if n in c} for c in combos]


def resolve(names: Iterable[str], conditions: Mapping[str, Condition], fixed: Mapping[str, Any],
            fixed_names: Iterable[str]) -> tuple[list[str], dict[str, Condition]]:
    """The parameters still searched once `fixed_names` are decided (`fixed`: their active values),
    and their conditions with the decided parents taken out.

    A grid combination run by a model-based searcher fixes the grid parameters: a parameter whose
    condition on them fails is inactive for that whole combination, and so are its descendants.
    """
    decided = set(fixed_names)
    dropped: set[str] = set()
    kept: dict[str, Condition] = {}
    names = [n for n in order(names, conditions) if n not in decided]
    for name in names:
        if name not in conditions:
            continue
        rest = []
        for parent, values in conditions[name].parents:
            if parent in dropped or (parent in decided and not Condition(((parent, values),)).holds(fixed)):
                dropped.add(name)
                break
            if parent not in decided:
                rest.append((parent, values))
        if name not in dropped and rest:
            kept[name] = Condition(tuple(rest))
    return [n for n in names if n not in dropped], kept

"""A conditional space as hyperopt's native tree: `hp.choice` over branches, each with its own params.

A choice that other parameters are conditional on becomes `hp.choice(label, [branch_0, ...])`,
where branch i is a dict holding the index (`INDEX`) and the expressions of the children active
at the choice's i-th value. TPE then models each child only from the trials where it was active,
which is the point of a tree-structured Parzen estimator. A child active under several values
(momentum under `momentum` and `nesterov`) appears in each of those branches under its own label
(`momentum@optimizer=1`), because hyperopt labels are unique: each branch learns its own density.

A parameter is nested under the first of its condition's parents that is searched; the other
parents of an AND-condition are applied when decoding (`SearchSpace.prune`), so a parameter that
TPE drew but whose other parents rule it out is left out of the config. Labels of root parameters
are their names, as in a flat space; the label of a branching choice ends in `BRANCH` so that
Ray's conversion of `points_to_evaluate` (which looks choices up by name) leaves our own encoded
indices alone.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hyperopt import hp

from autolearn.config.conditions import Condition, same_value
from autolearn.search.encoding import Dimension

INDEX = "__index__"
BRANCH = "#branch"


class Tree:
    """The hyperopt expression of a conditional space and its decoding (module doc)."""

    def __init__(self, searched: Mapping[str, Dimension], conditions: Mapping[str, Condition],
                 leaf: Callable[[Dimension, str], Any]) -> None:
        self._searched = dict(searched)
        self._leaf = leaf
        self.labels: dict[str, str] = {}  # label → parameter name
        self._children: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}
        roots = []
        for name in searched:
            parent = next((p for p in conditions[name].parents if p[0] in searched), None) \
                if name in conditions else None
            if parent is None:
                roots.append(name)
            else:
                self._children.setdefault(parent[0], []).append((name, parent[1]))
        self.space = {name: self._expression(name, "") for name in roots}

    def _expression(self, name: str, prefix: str) -> Any:
        d = self._searched[name]
        label = f"{name}{prefix}"
        children = self._children.get(name)
        if not children:
            self.labels[label] = name
            return self._leaf(d, label)
        self.labels[label + BRANCH] = name
        branches = []
        for i, value in enumerate(d.values):
            branch: dict[str, Any] = {INDEX: i}
            for child, values in children:
                if any(same_value(value, v) for v in values):
                    child_label = f"{child}@{name}={i}{prefix}"
                    branch[child_label] = self._expression(child, f"@{name}={i}{prefix}")
            branches.append(branch)
        return hp.choice(label + BRANCH, branches)

    def decode(self, evaluated: Mapping[str, Any], value_of: Callable[[Dimension, Any], Any]) -> dict[str, Any]:
        """hyperopt's evaluated sample (nested dicts) → {name: value} of every parameter in it."""
        out: dict[str, Any] = {}
        for label, raw in evaluated.items():
            name = self.labels.get(label) or self.labels[label + BRANCH]
            if isinstance(raw, Mapping) and INDEX in raw:
                out[name] = self._searched[name].values[int(raw[INDEX])]
                out.update(self.decode({k: v for k, v in raw.items() if k != INDEX}, value_of))
            else:
                out[name] = value_of(self._searched[name], raw)
        return out

    def encode(self, point: Mapping[str, Any], to_label: Callable[[Dimension, Any], Any]) -> dict[str, Any]:
        """A config (active parameters only) → hyperopt's flat labels, for `points_to_evaluate`."""
        out: dict[str, Any] = {}

        def walk(name: str, prefix: str) -> None:
            if name not in point:
                return
            d = self._searched[name]
            label = f"{name}{prefix}"
            if label in self.labels:
                out[label] = to_label(d, point[name])
                return
            i = int(d.to_internal(point[name]))
            out[label + BRANCH] = i
            for child, values in self._children[name]:
                if any(same_value(d.values[i], v) for v in values):
                    walk(child, f"@{name}={i}{prefix}")

        for root in self.space:
            walk(root, "")
        return out

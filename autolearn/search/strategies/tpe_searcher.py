"""hyperopt's TPE as a Ray Tune searcher, fed from autolearn's `SearchSpace` directly.

Ray's `HyperOptSearch` does the bookkeeping (trials, seeding, `points_to_evaluate`, save/restore);
what it gets wrong for us is fixed here, in one place:

- the space is built from the one encoding (`search/encoding.py`), not from Ray domains: every
  parameter is a numeric hyperopt label, decoded back to an exact, in-bounds, plain-Python value.
  Ints are `quniform(low - .5, high + .5)` so both inclusive ends get their full share (Ray's
  conversion halves them); stepped ranges are an ordered index, so `step` is counted from `low`
  (hyperopt's `q` counts from 0); choices are `randint` indices (TPE treats them as categorical),
  so any value type works, and `points_to_evaluate` are encoded by us. hyperopt exponentiates log
  ranges itself, so the label of a range is on the value's own scale; of the rest, an index.
- a trial that diverged, reported NaN/inf or no metric is recorded as failed, which hyperopt's TPE
  (0.3) scores as an infinite loss, i.e. worse than anything seen: NaN never reaches its sort.
  Pending trials are scored the same way while they run (hyperopt's own constant liar).
- a space with `when:` conditions is hyperopt's native tree of nested choices (`tpe_tree.py`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hyperopt import hp
from ray.tune.search.hyperopt import HyperOptSearch

from autolearn.config.space import SearchSpace
from autolearn.internals import HyperOptResultHook, hyperopt_complete_points
from autolearn.search.encoding import INDEXED, Dimension, SpaceEncoding
from autolearn.search.strategies.sequential import score_of
from autolearn.search.strategies.tpe_tree import Tree


def hyperopt_dim(d: Dimension, label: str | None = None) -> Any:
    """The hyperopt expression of one searched parameter, over its encoded line."""
    label = label or d.name
    if d.kind == "categorical":
        return hp.randint(label, len(d.values))
    if d.kind in ("ordinal", "int"):
        return (hp.qloguniform if d.log else hp.quniform)(label, d.low, d.high, 1)
    return (hp.loguniform if d.log else hp.uniform)(label, d.low, d.high)


def to_label(d: Dimension, value: Any) -> Any:
    """A config value → its hyperopt label (`points_to_evaluate`): randint labels are ints."""
    return d.to_internal(value) if d.kind in INDEXED else float(value)


def from_label(d: Dimension, raw: Any) -> Any:
    """A hyperopt label → an exact, in-bounds, plain-Python config value."""
    return d.from_internal(raw) if d.kind in INDEXED else d.nearest(raw)


class TPESearcher(HyperOptResultHook, HyperOptSearch):
    """`HyperOptSearch` over an autolearn space: exact decoding and NaN-safe scores (module doc)."""

    def __init__(self, space: SearchSpace, metric: str, mode: str, *,
                 points_to_evaluate: Sequence[Mapping[str, Any]] = (), n_initial_points: int = 20,
                 gamma: float = 0.25, seed: int | None = None) -> None:
        self._encoding = SpaceEncoding(space)
        self._space_def = space
        searched = self._encoding.searched
        self._tree = Tree(searched, space.conditions, hyperopt_dim) if space.conditions else None
        if self._tree is not None:  # a conditional space: hyperopt's nested choices (tpe_tree.py)
            points = [self._tree.encode(point, to_label) for point in points_to_evaluate]
            hp_space = self._tree.space
        else:
            points = [{n: to_label(d, point[n]) for n, d in searched.items()} for point in points_to_evaluate]
            hp_space = {n: hyperopt_dim(d) for n, d in searched.items()}
        super().__init__(space=hp_space, metric=metric, mode=mode,
                         points_to_evaluate=points or None, n_initial_points=n_initial_points,
                         random_state_seed=seed, gamma=gamma)
        if self._tree is not None and points:
            hyperopt_complete_points(self, self._tree.labels)

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if not self._encoding.searched:  # a grid combination that leaves nothing active to search
            return self._space_def.prune(self._encoding.complete({}))
        raw = super().suggest(trial_id)
        if raw is None or raw == self.FINISHED:
            return raw
        if self._tree is not None:
            return self._space_def.prune(self._encoding.complete(self._tree.decode(raw, from_label)))
        return self._encoding.complete({n: from_label(d, raw[n]) for n, d in self._encoding.searched.items()})

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        """An errored trial is a failed result, not a forgotten one.

        Ray marks it `JOB_STATE_ERROR`, and hyperopt's `Trials.refresh` then drops it: TPE would
        sample the crashing region again as if it were unexplored. Recorded as done with no usable
        score instead, hyperopt scores it as an infinite loss, like every other failure here.
        """
        if error:
            result, error = {"error": True}, False  # no metric in it: `hyperopt_result` fails it
        super().on_trial_complete(trial_id, result, error=error)

    def hyperopt_result(self, result: Mapping[str, Any]) -> dict[str, Any]:
        score = score_of(result, self.metric)
        if score is None:
            return {"status": "fail"}
        return {"loss": self.metric_op * score, "status": "ok"}

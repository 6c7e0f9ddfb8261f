"""BOHB's model (Falkner et al., ICML 2018) as a Ray Tune searcher: TPE on the largest rung.

ASHA/Hyperband decide which trials go on; this searcher decides which configs start. It keeps
every intermediate result (`on_trial_result`), indexed by budget (`training_iteration`), and
models the largest budget that has enough observations (`min_points`, default 2(d + 1)): the first
rungs fill up early, so the model proposes from cheap evidence at once and moves to longer
budgets as they fill. The model is a pair of kernel densities over the one encoding
(`search/encoding.py`) at that budget, `l(x)` over the best `top_fraction` of configs and `g(x)`
over the rest; a proposal is the best of `n_candidates` draws from `l` (its bandwidths widened by
`bandwidth_factor`) by `l(x) / g(x)`. A `random_fraction` of proposals stays uniformly random, the
guarantee that BOHB is never much worse than Hyperband.

`min_points` is twice BOHB's d + 1: with d + 2, the top rung is modelled as soon as a handful of
trials survive there, and a density over so few survivors barely steers (measured on the toy
landscape of tests/unit/search/test_bohb.py, 5 seeds, 400 epochs under ASHA: median regret 0.088
with d + 2, 0.044 with 20 observations, 0.154 for random search).

Kernels: ranges (floats, ints, steps) live on [0, 1] along their line, with a Gaussian of Scott's
bandwidth per dimension (floored at `MIN_BANDWIDTH`); choices by their index, with the
Aitchison-Aitken kernel (keep the value with 1 - bw, else any other), as statsmodels' KDE does in
BOHB's own implementation. Failed or diverged results are the worst loss at their budget.

State (observations, pending configs, the RNG) is plain data: `save`/`restore` pickle it, and a
restored searcher suggests exactly what the uninterrupted one would.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ray.tune.search import Searcher

from autolearn.config.space import SearchSpace
from autolearn.search.encoding import SpaceEncoding
from autolearn.search.strategies.sequential import score_of
from autolearn.search.strategies.state import PickledState
from autolearn.values import plain

BUDGET_ATTR = "training_iteration"
MIN_BANDWIDTH = 1e-3


class BOHBSearcher(PickledState, Searcher):
    """Multi-fidelity TPE over an autolearn space (see module doc)."""

    def __init__(self, space: SearchSpace, metric: str | None = None, mode: str | None = None, *,
                 points_to_evaluate: Sequence[Mapping[str, Any]] = (), min_points: int | None = None,
                 top_fraction: float = 0.15, random_fraction: float = 1 / 3, n_candidates: int = 64,
                 bandwidth_factor: float = 3.0, seed: int | None = None) -> None:
        super().__init__(metric=metric, mode=mode)
        self._space = space
        self._encoding = SpaceEncoding(space)
        dims = list(self._encoding.searched.values())
        self._categorical = np.array([d.kind == "categorical" for d in dims], dtype=bool)
        self._choices = np.array([len(d.values) if d.kind == "categorical" else 0 for d in dims])
        self._min_points = max(min_points if min_points is not None else 2 * (len(dims) + 1), 2)
        self._top, self._random_fraction = float(top_fraction), float(random_fraction)
        self._n_candidates, self._bw_factor = int(n_candidates), float(bandwidth_factor)
        self._rng = np.random.default_rng(seed)
        self._queue = [dict(point) for point in points_to_evaluate]
        self._vectors: dict[str, np.ndarray] = {}  # trial id → its config's place in the model's space
        self._losses: dict[int, dict[str, float]] = {}  # budget → trial id → loss (inf: failed)

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        self._metric, self._mode = metric or self._metric, mode or self._mode
        return True

    # -- the Searcher interface -----------------------------------------------------------------

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self._queue:  # warm-start points run exactly as given
            given = self._queue.pop(0)
            config = self._encoding.complete({n: given[n] for n in self._encoding.searched if n in given})
        else:
            budget = self.model_budget()
            use_model = budget is not None and self._rng.random() >= self._random_fraction
            config = self._space.prune(  # `when:` children left out where their parents say so
                self._decode(self._propose(budget) if use_model and budget is not None else self._uniform(1)[0]))
        self._vectors[trial_id] = self._vector(config)  # what runs (ints rounded), not what was drawn
        return config

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self._record(trial_id, result, failed=False)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        self._record(trial_id, result, failed=error)

    # -- what the model sees ----------------------------------------------------------------------

    def observations(self, budget: int) -> tuple[np.ndarray, np.ndarray]:
        """The configs seen at `budget` (rows in the model's space) and their losses."""
        seen = self._losses.get(budget, {})
        ids = [t for t in seen if t in self._vectors]
        if not ids:
            return np.empty((0, len(self._categorical))), np.empty(0)
        return np.stack([self._vectors[t] for t in ids]), np.array([seen[t] for t in ids])

    def model_budget(self) -> int | None:
        """The largest budget with at least `min_points` observations (None: random for now)."""
        ready = [b for b, seen in self._losses.items() if len(seen) >= self._min_points]
        return max(ready) if ready else None

    def _record(self, trial_id: str, result: Mapping[str, Any] | None, failed: bool) -> None:
        if trial_id not in self._vectors:
            return
        budget = (result or {}).get(BUDGET_ATTR)
        if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool):
            # No budget in it (a crash without a result, a searcher driven by hand): the trial's
            # last budget, one further for a crash, so it reads worst where it would have gone on.
            last = max((b for b, seen in self._losses.items() if trial_id in seen), default=0)
            budget = last + 1 if failed or not last else last
        score = None if failed else score_of(result, self.metric)
        sign = -1.0 if self._mode == "max" else 1.0
        self._losses.setdefault(int(budget), {})[trial_id] = math.inf if score is None else sign * score

    # -- proposals ------------------------------------------------------------------------------

    def _propose(self, budget: int) -> np.ndarray:
        x, y = self.observations(budget)
        finite = np.isfinite(y)
        worst = y[finite].max() if finite.any() else 0.0
        order = np.argsort(np.where(finite, y, worst + 1.0), kind="stable")
        # As BOHB does: each density gets at least min_points / 2 configs, so while data are few
        # the two overlap and the model barely steers; a lone good point would clone itself.
        n, least = len(y), max(self._min_points // 2, 1)
        n_good = min(max(int(math.ceil(self._top * n)), least), n - 1)
        n_bad = min(max(n - n_good, least), n - 1)
        good, bad = x[order[:n_good]], x[order[n - n_bad:]]
        bw_good, bw_bad = self._bandwidths(good), self._bandwidths(bad)
        widened = np.where(self._categorical, bw_good, bw_good * self._bw_factor)  # ranges only, as BOHB
        candidates = self._sample_around(good, widened)
        ratio = self._log_density(candidates, good, bw_good) - self._log_density(candidates, bad, bw_bad)
        return np.asarray(candidates[int(np.argmax(ratio))])

    def _bandwidths(self, data: np.ndarray) -> np.ndarray:
        """Scott's rule per dimension; for a choice, a probability of leaving the value."""
        n, d = data.shape
        scale = n ** (-1.0 / (d + 4))
        std = data.std(axis=0) if n > 1 else np.full(d, 0.1)
        continuous = np.maximum(std * scale, MIN_BANDWIDTH)
        max_leave = np.where(self._choices > 1, (self._choices - 1) / np.maximum(self._choices, 1), 0.0)
        categorical = np.clip(0.5 * scale, MIN_BANDWIDTH, max_leave)
        return np.where(self._categorical, categorical, continuous)

    def _log_density(self, points: np.ndarray, data: np.ndarray, bw: np.ndarray) -> np.ndarray:
        """log of the mean product kernel of `data` at each row of `points`."""
        diff = points[:, None, :] - data[None, :, :]
        gauss = -0.5 * (diff / bw) ** 2 - np.log(bw * math.sqrt(2 * math.pi))
        others = np.maximum(self._choices - 1, 1)
        aa = np.where(np.abs(diff) < 0.5, np.log1p(-np.minimum(bw, 1 - 1e-12)), np.log(bw / others))
        per_point = np.where(self._categorical, aa, gauss).sum(axis=2)
        top = per_point.max(axis=1, keepdims=True)
        return np.asarray((top + np.log(np.exp(per_point - top).mean(axis=1, keepdims=True)))[:, 0])

    def _sample_around(self, good: np.ndarray, bw: np.ndarray) -> np.ndarray:
        """Draws from the widened good density: a good config, moved by each dimension's kernel."""
        rows = good[self._rng.integers(len(good), size=self._n_candidates)]
        moved = rows + self._rng.normal(size=rows.shape) * bw
        moved = np.where(moved < 0, -moved, moved)  # reflect at the ends of [0, 1] ...
        moved = np.clip(np.where(moved > 1, 2 - moved, moved), 0.0, 1.0)  # ... and stay in it
        leave = self._rng.random(rows.shape) < bw
        other = (rows + self._rng.integers(1, np.maximum(self._choices, 2), size=rows.shape)) % np.maximum(
            self._choices, 1)
        categorical = np.where(leave & (self._choices > 1), other, rows)
        return np.where(self._categorical, categorical, moved)

    def _uniform(self, n: int) -> np.ndarray:
        u = self._rng.random((n, len(self._categorical)))
        return np.where(self._categorical, np.floor(u * np.maximum(self._choices, 1)), u)

    # -- the model's space ↔ configs ---------------------------------------------------------------

    def _vector(self, config: Mapping[str, Any]) -> np.ndarray:
        """An inactive `when:` parameter is imputed (a range's middle, a choice's first value), as
        `gp_searcher` does: every observation of one branch agrees on what that branch ignores."""
        return np.array([(d.to_internal(config[n]) if d.kind == "categorical" else d.to_unit(config[n]))
                         if n in config else (0.0 if d.kind == "categorical" else 0.5)
                         for n, d in self._encoding.searched.items()], dtype=float)

    def _decode(self, x: np.ndarray) -> dict[str, Any]:
        values = {n: plain(d.from_internal(int(x[i])) if d.kind == "categorical" else d.from_unit(x[i]))
                  for i, (n, d) in enumerate(self._encoding.searched.items())}
        return self._encoding.complete(values)

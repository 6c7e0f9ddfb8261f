"""Gaussian-process Bayesian optimisation as a Ray Tune searcher, on bayesian-optimization >= 3.

Ray's own `BayesOptSearch` calls `bayes_opt.UtilityFunction`, gone since bayesian-optimization 2.0,
and only knows linear floats. This searcher uses today's API (`BayesianOptimization(f=None,
pbounds=..., acquisition_function=...)`, `register`, `suggest`) and every autolearn parameter type.

Every parameter is searched through the one encoding (`search/encoding.py`), scaled to [0, 1]
(bayes_opt's GP has one length scale for all dimensions): floats as they are or in log space, ints
as a continuous relaxation over [low - .5, high + .5] rounded on the way out (bayes_opt's own
integer parameter sends the acquisition search to differential evolution, ~10 s a suggestion),
stepped ranges by their index, so `step` is exact. Choices go to bayes_opt's categorical parameter
as their *index* (one-hot inside the GP, any value type works). A single-valued parameter is a
constant and not searched.

Parallel trials (constant liar): every suggestion still running is registered, for the next model
fit only, with the mean of the scores seen so far (CL-mean). The GP's variance collapses there, so
the acquisition looks elsewhere. The mean, measured on Branin with 2 trials at once (EI, 50
evaluations, seeds 0/1): regret 0.026/0.073, against 0.67/0.11 lying with the worst score (a
pending point then reads as a cliff and wrecks the fit) and 0.16/0.16 with the best. As a last
guard a suggestion whose config was already handed out (e.g. in a small discrete space) is
replaced by a fresh random point, when one exists.

Failed trials: a trial that diverged, errored or reported NaN/inf (or no metric) scores the worst
value seen, re-evaluated at every fit, so the GP learns "bad here" and never sees NaN.

Conditional spaces (`when:`): one GP over every dimension, with each inactive dimension of a point
imputed to a fixed value (`INACTIVE`: the middle, 0.5, of a range's [0, 1] line; index 0 of a
choice). bayes_opt refuses points outside the bounds, so the imputed value is a possible one; the
parent's one-hot columns are what tell the branches apart, and they are searched. The acquisition
proposes a full point; decoding drops what the point's own parents make inactive, and the point is
stored imputed, so every observation of one branch agrees on the dimensions that branch ignores
(imputation with a constant, as Lévesque et al. 2017 study it for conditional spaces).

State (observations, pending points, random state) is plain data: `save`/`restore` pickle it and a
restored searcher continues where it stopped, without repeating a suggestion. A fresh
`BayesianOptimization` is built from that data at every suggestion (the GP is refitted anyway).
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ray.tune.search import Searcher

from autolearn.config.space import SearchSpace
from autolearn.internals import bayes_opt_gp
from autolearn.search.encoding import Dimension, SpaceEncoding
from autolearn.search.strategies.gp import ACQUISITIONS
from autolearn.search.strategies.sequential import score_of
from autolearn.search.strategies.state import PickledState
from autolearn.values import plain

N_CANDIDATES = 10_000  # random points the acquisition is evaluated on ...
N_LOCAL = 5  # ... and the best of them refined by L-BFGS-B (continuous spaces only)
INACTIVE = {"categorical": 0}  # an inactive dimension's imputed value; 0.5 for the rest (module doc)


def _bounds(d: Dimension) -> Any:
    """pbounds entry of one searched parameter: [0, 1] for ranges, the indices of a choice."""
    if d.kind == "categorical":  # explicit: bayes_opt reads a bare [0, 1] as a float range
        from bayes_opt.parameter import CategoricalParameter

        return CategoricalParameter(name=d.name, categories=list(range(len(d.values))))
    return (0.0, 1.0)


def to_gp(d: Dimension, value: Any) -> Any:
    """A config value → what bayes_opt holds: a choice's index, a range's place in [0, 1]."""
    return d.to_internal(value) if d.kind == "categorical" else d.to_unit(value)


def from_gp(d: Dimension, raw: Any) -> Any:
    return d.from_internal(raw) if d.kind == "categorical" else d.from_unit(raw)


class GPSearcher(PickledState, Searcher):
    """GP-BO over an autolearn space with a constant liar for parallel trials (see module doc)."""

    def __init__(self, space: SearchSpace, metric: str | None = None, mode: str | None = None, *,
                 points_to_evaluate: Sequence[Mapping[str, Any]] = (), n_initial_points: int = 5,
                 acquisition: str = "ei", kappa: float = 2.576, xi: float = 0.01,
                 seed: int | None = None) -> None:
        super().__init__(metric=metric, mode=mode)
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"unknown acquisition {acquisition!r}; allowed: {sorted(ACQUISITIONS)}")
        self._encoding = SpaceEncoding(space)
        self._space_def = space
        self._acquisition = (acquisition, float(kappa), float(xi))
        self._rng = np.random.RandomState(seed)
        self._queue = [(self._impute({n: to_gp(d, point[n]) if n in point else INACTIVE.get(d.kind, 0.5)
                                      for n, d in self._searched.items()}), dict(point))
                       for point in points_to_evaluate]  # (raw, the config exactly as given)
        self._random_left = n_initial_points
        self._observed: list[tuple[dict[str, Any], float | None]] = []  # raw point, score (None: failed)
        self._pending: dict[str, dict[str, Any]] = {}
        self._seen: set[str] = set()

    @property
    def _searched(self) -> dict[str, Dimension]:
        """Derived, not stored: a state saved before the encoding (Params here) still restores."""
        return self._encoding.searched

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        self._metric, self._mode = metric or self._metric, mode or self._mode
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if not self._searched:
            return self._decode({})
        if self._queue:
            raw, given = self._queue.pop(0)
            config = {**self._decode(raw), **{n: given[n] for n in self._searched if n in given}}
        else:
            if self._random_left > 0 or not any(s is not None for _, s in self._observed):
                self._random_left = max(self._random_left - 1, 0)
                raw = self._random_unseen()
            else:
                raw = self._impute(self._model_suggestion())
                if self._key(raw) in self._seen:
                    raw = self._random_unseen()
            config = self._decode(raw)
        self._seen.add(self._key(raw))
        self._pending[trial_id] = raw
        return config

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        raw = self._pending.pop(trial_id, None)
        if raw is not None:
            self._observed.append((raw, None if error else score_of(result, self.metric)))

    # -- internals ------------------------------------------------------------------------------

    def _decode(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        decoded = {n: from_gp(d, raw[n]) for n, d in self._searched.items()}
        return self._space_def.prune(self._encoding.complete(decoded))

    def _impute(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """`raw` with the dimensions its own values make inactive set to `INACTIVE` (module doc)."""
        if not self._space_def.conditions:
            return dict(raw)
        active = self._decode(raw)
        return {n: v if n in active else INACTIVE.get(self._searched[n].kind, 0.5) for n, v in raw.items()}

    def _key(self, raw: Mapping[str, Any]) -> str:
        return repr(sorted(self._decode(raw).items()))

    def _optimizer(self) -> Any:
        from bayes_opt import BayesianOptimization, acquisition

        kind, kappa, xi = self._acquisition
        acq = {"ucb": lambda: acquisition.UpperConfidenceBound(kappa=kappa),
               "ei": lambda: acquisition.ExpectedImprovement(xi=xi),
               "pi": lambda: acquisition.ProbabilityOfImprovement(xi=xi)}[kind]()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "non-float parameters are experimental": tested here
            return BayesianOptimization(f=None, pbounds={n: _bounds(d) for n, d in self._searched.items()},
                                        acquisition_function=acq, random_state=self._rng, verbose=0)

    def _random_unseen(self, tries: int = 100) -> dict[str, Any]:
        optimizer = self._optimizer()
        raw = optimizer.random_sample(1)[0]
        for _ in range(tries):
            if self._key(raw) not in self._seen:
                break
            raw = optimizer.random_sample(1)[0]
        return self._impute({n: plain(v) for n, v in raw.items()})

    def _model_suggestion(self) -> dict[str, Any]:
        """Fit on observations (worst score for failures, the lie for pending points), maximise EI/UCB/PI."""
        sign = -1.0 if self._mode == "min" else 1.0
        scores = [sign * s for _, s in self._observed if s is not None]
        worst = min(scores)
        optimizer = self._optimizer()
        points: dict[tuple[float, ...], list[float]] = {}
        arrays: dict[tuple[float, ...], dict[str, Any]] = {}
        for raw, score in self._observed:
            key = tuple(np.round(optimizer.space.params_to_array(raw), 12))
            points.setdefault(key, []).append(worst if score is None else sign * score)
            arrays[key] = raw
        for raw in self._pending.values():  # the constant liar
            key = tuple(np.round(optimizer.space.params_to_array(raw), 12))
            if key not in points:
                points[key], arrays[key] = [float(np.mean(scores))], raw
        for key, values in points.items():
            optimizer.register(arrays[key], float(np.mean(values)))
        space = optimizer.space
        mixed = not all(space.continuous_dimensions)  # choices: random candidates only (no slow DE)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's GP convergence warnings on tiny data
            x = optimizer.acquisition_function.suggest(
                gp=bayes_opt_gp(optimizer), target_space=space, n_random=N_CANDIDATES, n_smart=0 if mixed else N_LOCAL,
                fit_gp=True, random_state=self._rng)
        return {n: plain(v) for n, v in space.array_to_params(x).items()}

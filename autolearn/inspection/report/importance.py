"""Which hyperparameters mattered: random-forest permutation importance over the finished trials.

A random forest is fitted to predict each trial's best score from its hyperparameters; a
hyperparameter's importance is how much the fit (R²) drops when its values are shuffled,
averaged over repeats and normalised to sum to 1. Trees need no scaling and take choices as
ordinal codes, and permutation importance is not biased towards many-valued parameters the
way impurity importance is. With few trials it is a rough guide, and the note says so. A parameter
inactive in a trial (`when:`) is a missing value there (the forest routes it), or for a choice a
code of its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from autolearn.inspection.report.data import SweepData
from autolearn.inspection.report.plots import axis_values, encoded_line, inactive

MIN_TRIALS = 4  # below this, a forest fitted to the trials says nothing worth printing


@dataclass(frozen=True)
class Importance:
    values: dict[str, float]   # hyperparameter → share (sums to 1), empty when not computed
    method: str                # the one-line note shown under the plot and in report.md


def design_matrix(data: SweepData) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Hyperparameters as numbers, placed by the space's encoding (log ranges in log, choices and
    steps by index; values it cannot place as on the plots), and the scores."""
    usable, names = data.usable(), data.hparams
    columns = []
    for name in names:
        values = list(usable[name])
        d = encoded_line(data, name, values)
        columns.append([math.nan if inactive(v) else float(d.to_internal(v)) for v in values] if d and
                       d.kind != "categorical" else axis_values(data, name, values)[0])
    features = np.array(columns, dtype=float).T if columns else np.empty((len(usable), 0))
    return features, usable[data.score_column].to_numpy(dtype=float), names


def hyperparameter_importance(data: SweepData, *, seed: int = 0, repeats: int = 10) -> Importance:
    """Which hyperparameters the score depended on, so the next sweep can narrow or drop the rest."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance

    features, scores, names = design_matrix(data)
    n = len(scores)
    if n < MIN_TRIALS or not names or np.ptp(scores) == 0:
        why = f"{n} usable trial(s)" if n < MIN_TRIALS or not names else "every trial scored the same"
        return Importance({}, f"Importance not estimated: {why} (needs at least {MIN_TRIALS} with "
                              "different scores).")
    forest = RandomForestRegressor(n_estimators=200, min_samples_leaf=1, random_state=seed).fit(features, scores)
    result = permutation_importance(forest, features, scores, n_repeats=repeats, random_state=seed)
    raw = np.clip(result.importances_mean, 0.0, None)
    total = float(raw.sum())
    shares = raw / total if total > 0 else np.full(len(names), 1.0 / len(names))
    method = (f"Random-forest permutation importance (scikit-learn, 200 trees, {repeats} shuffles) over "
              f"{n} trials: the drop in R² when one hyperparameter is shuffled, normalised to sum to 1.")
    return Importance({name: float(v) for name, v in zip(names, shares)}, method)

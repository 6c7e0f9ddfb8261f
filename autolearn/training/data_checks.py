"""Checks of the numbers a dataset holds, beyond its shape: what would otherwise train silently
on garbage or fail deep inside a trial.

- infinite feature values: standardising turns them into nan, every trial "diverges";
- blank labels: pandas reads them as nan, which became a class of its own;
- continuous labels (a regression target): every distinct value became a class.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autolearn.errors import DataError

MAX_CLASSES = 1000  # more distinct labels than this is an id or a measurement, not a class


def check_features(x: np.ndarray, where: str) -> None:
    """No inf/-inf (or nan) among the features."""
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = "infinite" if np.isinf(x).any() else "missing (nan)"
        raise DataError("task.dataset", f"{where} has {bad} feature values; replace or drop them first")


def check_labels(y: Any, where: str, field: str = "task.dataset") -> None:
    """Class labels: none blank, not a continuous measurement, not more than MAX_CLASSES."""
    import pandas as pd

    labels = pd.Series(np.asarray(y).ravel())
    blank = int(labels.isna().sum()) + int((labels.astype(str).str.strip() == "").sum())
    if blank:
        raise DataError(field, f"{where} has {blank} blank label(s); fill or drop those rows")
    if pd.api.types.is_float_dtype(labels):
        fractional = labels[(labels % 1) != 0]
        if len(fractional):
            raise DataError(field, f"{where} has continuous labels (e.g. {fractional.iloc[0]!r}); autolearn trains "
                            "classifiers: give class labels (integers or names)")
    classes = labels.nunique()
    if classes > MAX_CLASSES:
        raise DataError(field, f"{where} has {classes} distinct labels (more than {MAX_CLASSES}); is it an id or "
                        "a measurement rather than a class?")

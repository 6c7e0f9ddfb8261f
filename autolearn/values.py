"""Small rules every layer applies to values the same way: plain Python values, finite scores,
which of two scores is better, and whether a storage location is a URI.

They sit at the bottom of the package (beside `errors.py`) because config, search, results and
inspection all need them, and a rule written five times drifts five ways.
"""
from __future__ import annotations

import math
from typing import Any, Literal

Mode = Literal["min", "max"]


def plain(value: Any) -> Any:
    """A NumPy or torch scalar as the Python number it holds (for YAML, JSON, CSV and HParams)."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (str, bytes)) else value


def is_finite_number(value: Any) -> bool:
    """A real number that is neither NaN nor infinite (booleans are not scores)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_better(score: float, than: float | None, mode: str) -> bool:
    """Whether `score` beats `than` under `mode` (`max` or `min`); anything beats None."""
    if than is None:
        return True
    return score > than if mode == "max" else score < than


def is_uri(location: str) -> bool:
    """`s3://...`, `gs://...`, `file://...`: written through pyarrow, not as a local path."""
    return "://" in str(location)

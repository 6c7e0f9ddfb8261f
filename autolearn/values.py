"""Small rules every layer applies to values the same way: plain Python values, finite scores,
which of two scores is better, and whether a storage location is a URI.

They sit at the bottom of the package (beside `errors.py`) because config, search, results and
inspection all need them, and a rule written five times drifts five ways.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from typing_extensions import TypeIs

Mode = Literal["min", "max"]


def plain(value: Any) -> Any:
    """A NumPy or torch scalar as the Python number it holds (for YAML, JSON, CSV and HParams)."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (str, bytes)) else value


def is_finite_number(value: Any) -> TypeIs[float]:
    """A real number (NumPy's too) that is neither NaN nor infinite (booleans are not scores)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def is_better(score: float, than: float | None, mode: str) -> bool:
    """Whether `score` beats `than` under `mode` (`max` or `min`); anything beats None."""
    if than is None:
        return True
    return score > than if mode == "max" else score < than


def best_index(scores: Sequence[float], mode: str) -> int | None:
    """Where the best of `scores` stands (the first of equals); None when there is none."""
    best: int | None = None
    for index, score in enumerate(scores):
        if best is None or is_better(score, scores[best], mode):
            best = index
    return best


def running_best(scores: Sequence[float], mode: str) -> list[float]:
    """The best score so far after each one: the curve a sweep's progress is judged by."""
    out: list[float] = []
    for score in scores:
        out.append(score if not out or is_better(score, out[-1], mode) else out[-1])
    return out


def worst_to_best(scores: Sequence[float], mode: str) -> list[int]:
    """The positions of `scores` from the worst to the best (to draw the best last, on top)."""
    return sorted(range(len(scores)), key=lambda i: scores[i], reverse=mode != "max")


def is_uri(location: str) -> bool:
    """`s3://...`, `gs://...`, `file://...`: written through pyarrow, not as a local path."""
    return "://" in str(location)

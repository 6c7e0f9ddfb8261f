"""Reporting metrics from user trainables: one function, whichever Ray Tune API is underneath."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def report(metrics: Mapping[str, Any], checkpoint: Any = None) -> None:
    """Report one step's metrics (and optionally a `ray.tune.Checkpoint`) from inside a trial."""
    from ray import tune

    tune.report(dict(metrics), checkpoint=checkpoint)


def get_checkpoint() -> Any:
    """The checkpoint to resume from after a retry, or None on a first run."""
    from ray import tune

    return tune.get_checkpoint()

"""Early stopping: scheduler name → small factory, options checked against the factory's signature.

Time is counted in `training_iteration` (one per report: an epoch of the built-in loop), and
`max_t` defaults to the spec's epochs, so `asha` needs no arguments to do the right thing.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from autolearn.config.plugins import check_kwargs
from autolearn.errors import ConfigError, allowed

TIME_ATTR = "training_iteration"


def _fifo() -> Any:
    from ray.tune.schedulers import FIFOScheduler

    return FIFOScheduler()


def _asha(max_t: int, grace_period: int = 1, reduction_factor: float = 3, brackets: int = 1) -> Any:
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(time_attr=TIME_ATTR, max_t=max_t, grace_period=grace_period,
                         reduction_factor=reduction_factor, brackets=brackets)


def _hyperband(max_t: int, reduction_factor: float = 3) -> Any:
    from ray.tune.schedulers import HyperBandScheduler

    return HyperBandScheduler(time_attr=TIME_ATTR, max_t=max_t, reduction_factor=reduction_factor)


def _median(grace_period: int = 1, min_samples_required: int = 3) -> Any:
    from ray.tune.schedulers import MedianStoppingRule

    return MedianStoppingRule(time_attr=TIME_ATTR, grace_period=grace_period,
                              min_samples_required=min_samples_required)


SCHEDULERS: dict[str, Callable[..., Any]] = {
    "fifo": _fifo,
    "asha": _asha,
    "hyperband": _hyperband,
    "median": _median,
}
_BUDGETED = {"asha", "hyperband"}  # take max_t, filled from the spec's epochs


def check_scheduler(name: str, options: Mapping[str, Any], max_t: int | None) -> None:
    """Load-time checks: known name, known options, a grace period that fits the budget."""
    if name not in SCHEDULERS:
        raise ConfigError("scheduler.name", f"unknown scheduler {name!r}; allowed: {allowed(SCHEDULERS)}")
    factory = SCHEDULERS[name]
    given = dict(options)
    if name in _BUDGETED:
        if "max_t" not in given and max_t is None:
            raise ConfigError("scheduler.max_t", f"{name} needs max_t (the most iterations a trial may "
                              "report) when a user trainable sets its own budget")
        given.setdefault("max_t", max_t)
    check_kwargs(factory, given, "scheduler", owner=f"scheduler {name!r}")
    for key in ("max_t", "grace_period", "brackets", "min_samples_required"):
        if key in given and (isinstance(given[key], bool) or not isinstance(given[key], int) or given[key] < 1):
            raise ConfigError(f"scheduler.{key}", f"must be a whole number >= 1, got {given[key]!r}")
    if "reduction_factor" in given:
        rf = given["reduction_factor"]
        if isinstance(rf, bool) or not isinstance(rf, (int, float)) or rf <= 1:
            raise ConfigError("scheduler.reduction_factor", f"must be a number > 1, got {rf!r}")
    budget = given.get("max_t")
    if budget is not None and given.get("grace_period", 1) > budget:
        raise ConfigError("scheduler.grace_period", f"grace_period ({given['grace_period']}) is larger than "
                          f"the budget of a trial (max_t = {budget} epochs); lower it or train longer")


def make_scheduler(name: str, options: Mapping[str, Any], max_t: int | None) -> Any:
    """The Ray Tune scheduler for `scheduler.name`, its options checked first (`max_t`: the budget)."""
    check_scheduler(name, options, max_t)
    given = dict(options)
    if name in _BUDGETED:
        given.setdefault("max_t", max_t)
    return SCHEDULERS[name](**given)

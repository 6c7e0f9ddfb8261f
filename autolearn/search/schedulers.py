"""Early stopping: scheduler name → small factory, options checked against the factory's signature.

Time is counted in `training_iteration` (one per report: an epoch of the built-in loop), and
`max_t` defaults to the spec's epochs for every factory that takes it, so `asha` needs no
arguments to do the right thing. A factory outside the package is named by import path
(`scheduler: {name: mypkg.sched:make_scheduler, ...}`) and checked the same way.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from autolearn.config.plugins import accepted_kwargs, check_kwargs, resolve
from autolearn.config.space import SearchSpace
from autolearn.errors import ConfigError
from autolearn.search import population

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
    "pbt": population.pbt,  # population-based training: search/population.py
    "pb2": population.pb2,
}
FIELD = "scheduler.name"


def _factory(name: Any) -> tuple[Callable[..., Any], str]:
    """The factory a scheduler name (a registry name, an import path or a callable) stands for, and
    how messages call it."""
    factory = resolve(name, SCHEDULERS, FIELD, "scheduler")
    label = repr(name) if isinstance(name, str) else getattr(name, "__qualname__", repr(name))
    return factory, f"scheduler {label}"


def _options(factory: Callable[..., Any], options: Mapping[str, Any], max_t: int | None,
             space: SearchSpace | None = None) -> dict[str, Any]:
    """The options with `max_t` filled from the spec's epochs when the factory takes it (without
    epochs, i.e. a user trainable, a factory that needs max_t says so through `check_kwargs`), and
    the spec's `space` for a factory that takes one (pbt, pb2: what may mutate, within which bounds)."""
    given = dict(options)
    accepted = accepted_kwargs(factory) or ()
    if max_t is not None and "max_t" in accepted:
        given.setdefault("max_t", max_t)
    if "space" in accepted:
        given["space"] = space if space is not None else SearchSpace()
    return given


def check_scheduler(name: Any, options: Mapping[str, Any], max_t: int | None,
                    space: SearchSpace | None = None) -> None:
    """Load-time checks: known name or importable factory, known options, a grace period that fits."""
    factory, owner = _factory(name)
    if "space" in options:
        raise ConfigError("scheduler.space", "is the spec's own space section; remove it from scheduler")
    given = _options(factory, options, max_t, space)
    check_kwargs(factory, given, "scheduler", skip=("space",), owner=owner)
    if factory not in SCHEDULERS.values():
        return  # a user's factory: its arguments mean what it says, not what Ray's schedulers do
    if factory in (population.pbt, population.pb2):
        population.check_options(name, given)
        return
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


def make_scheduler(name: Any, options: Mapping[str, Any], max_t: int | None,
                   space: SearchSpace | None = None) -> Any:
    """The Ray Tune scheduler; a user's factory must return one (a `TrialScheduler`)."""
    from ray.tune.schedulers import TrialScheduler

    check_scheduler(name, options, max_t, space)
    factory, owner = _factory(name)
    scheduler = factory(**_options(factory, options, max_t, space))
    if not isinstance(scheduler, TrialScheduler):
        raise ConfigError(FIELD, f"{owner} returned a {type(scheduler).__name__}, not a Ray Tune TrialScheduler")
    return scheduler

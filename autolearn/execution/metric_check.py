"""End a sweep at the first report that lacks the spec's metric, with one line saying what came.

The built-in trainable reports a fixed set of metrics, so a metric it cannot report is refused
when the spec loads (`training/checks.py`). A user's `task.trainable` reports whatever its code
says, which only its first report shows. Left to Ray, that report raised Ray's strict metric
check inside the driver's event loop: a page of Ray traceback, the experiment state not saved.
Here the check is a Ray Tune `Stopper` (Ray's own strict check is off: `internals.RAY_ENV`): the
first report without the metric stops the trial and asks Ray to stop every other one (`stop_all`),
so no trial runs on to report a metric the search can never read; the runner then raises a
`ConfigError` naming the metric and the keys the trainable did report.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray.tune.result import AUTO_RESULT_KEYS, DEBUG_METRICS, DONE
from ray.tune.stopper import Stopper

from autolearn.errors import ConfigError

_RAY_KEYS = frozenset((*AUTO_RESULT_KEYS, *DEBUG_METRICS, DONE, "trial_id", "should_checkpoint"))


def reported_keys(result: Mapping[str, Any]) -> list[str]:
    """The keys a trainable reported itself (Ray's own bookkeeping left out), sorted."""
    return sorted(k for k in result if k not in _RAY_KEYS and not k.startswith("__"))


def has_metric(result: Mapping[str, Any], metric: str) -> bool:
    """Whether `metric` is in the result, flat (`val/loss` as one key) or nested (`{"val": {"loss"}}`)."""
    if metric in result:
        return True
    node: Any = result
    for part in metric.split("/"):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


class MetricCheck(Stopper):
    """A `Stopper` that ends the sweep at the first report without `metric`; `problem` says why.

    A result with none of the trainable's own keys (a trainable that returned without reporting)
    passes, as in Ray's own check: there is nothing to name.
    """

    def __init__(self, metric: str, trainable: str) -> None:
        self.metric, self.trainable = metric, trainable
        self.problem: str | None = None

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        if self.problem is not None:
            return True
        keys = reported_keys(result)
        if not keys or has_metric(result, self.metric):
            return False
        shown = ", ".join(repr(k) for k in keys[:20]) + (" ..." if len(keys) > 20 else "")
        self.problem = (f"{self.metric!r} is not among the metrics that {self.trainable} reported "
                        f"(a report of trial {trial_id} had {shown}); set metric.name to one of "
                        "them, or report it (autolearn.report({...})); the sweep was stopped there")
        return True

    def stop_all(self) -> bool:
        return self.problem is not None

    def raise_if_missing(self) -> None:
        """After `fit()`: the ConfigError of the sweep this check stopped (nothing if it did not)."""
        if self.problem is not None:
            raise ConfigError("metric.name", self.problem)


def find_metric_check(stop: Any) -> MetricCheck | None:
    """The `MetricCheck` among a run config's stoppers (a list, or one), if any."""
    for stopper in stop if isinstance(stop, (list, tuple)) else [stop]:
        if isinstance(stopper, MetricCheck):
            return stopper
    return None


def raise_if_stopped(tuner: Any) -> None:
    """After `fit()`: the ConfigError of a sweep the tuner's `MetricCheck` stopped, if it did."""
    from autolearn.internals import tuner_run_config

    run_config = tuner_run_config(tuner)
    check = find_metric_check(run_config.stop) if run_config is not None else None
    if check is not None:
        check.raise_if_missing()

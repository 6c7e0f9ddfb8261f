"""Whether a distributed trial's workers can be placed, and how many such trials fit at once.

A distributed trial (`resources.workers_per_trial` N > 1) needs N bundles of `cpus_per_worker`/
`gpus_per_worker`; Ray Train may spread them over nodes, so what counts is how many bundles the
nodes hold together (each bundle on one node). If the nodes now and those the autoscaler may add
cannot hold N, Ray would wait forever: that is a one-line `ResourceError` before the sweep starts.
The trial's own process reserves no CPU (`ddp_trainable.DRIVER_RESOURCES`), so Tune alone would
start every trial at once and leave most waiting for workers; `limit_concurrency` caps the sweep
at the number of trials whose workers fit together.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from autolearn.config.sections import ResourcesSpec
from autolearn.config.spec import Experiment
from autolearn.errors import ResourceError
from autolearn.execution.cluster import Capacity

log = logging.getLogger(__name__)
UNKNOWN = 10**9  # a node type that does not declare its resources may hold any number


def worker_bundle(resources: ResourcesSpec) -> dict[str, float]:
    return {"CPU": resources.cpus_per_worker, "GPU": resources.gpus_per_worker}


def slots(node: Mapping[str, float], bundle: Mapping[str, float]) -> int:
    """How many worker bundles one node holds (a small epsilon: 2 / 0.1 is 19.99... in floats)."""
    counts = [math.floor(node.get(key, 0.0) / need + 1e-9) for key, need in bundle.items() if need > 0]
    return min(counts) if counts else UNKNOWN


def worker_slots(capacity: Capacity, bundle: Mapping[str, float]) -> tuple[int, int]:
    """(bundles the live nodes hold, bundles the autoscaler could add at most)."""
    now = sum(slots(node, bundle) for node in capacity.nodes)
    later = sum(min(UNKNOWN, t.max_workers * (slots(t.resources, bundle) if t.resources else UNKNOWN))
                for t in capacity.node_types if t.max_workers > 0)
    if capacity.autoscaler and not capacity.node_types:
        later = UNKNOWN  # an autoscaler whose node types could not be read: assume it can
    return now, later


def check_workers(resources: ResourcesSpec, capacity: Capacity) -> None:
    """Raise `ResourceError` when the cluster, even fully scaled up, cannot place one trial's workers."""
    bundle = worker_bundle(resources)
    now, later = worker_slots(capacity, bundle)
    need = resources.workers_per_trial
    if now + later >= need:
        return
    what = ", ".join(f"{k}={v:g}" for k, v in bundle.items() if v > 0) or "no CPU/GPU"
    scaling = f"its autoscaler can add {later} more" if capacity.autoscaler else "there is no autoscaler"
    raise ResourceError(f"resources.workers_per_trial: {need} workers of {what} each do not fit this Ray "
                        f"cluster: its nodes hold {now} such workers and {scaling}; lower workers_per_trial or "
                        "cpus_per_worker/gpus_per_worker, or join a larger cluster (--address)")


def limit_concurrency(exp: Experiment, capacity: Capacity) -> Experiment:
    """`exp` with `search.max_concurrent` at most the number of trials whose workers fit together."""
    if not exp.resources.distributed:
        return exp
    now, later = worker_slots(capacity, worker_bundle(exp.resources))
    if now + later >= UNKNOWN:
        return exp  # an autoscaler with no known bound: Ray Train's workers wait for its nodes
    fit = max(1, (now + later) // exp.resources.workers_per_trial)
    current = exp.search.max_concurrent
    if current is not None and current <= fit:
        return exp
    log.info("distributed trials: at most %d at once (%d workers each)", fit, exp.resources.workers_per_trial)
    return replace(exp, search=replace(exp.search, max_concurrent=fit))


def placement_group_reaper() -> Any:
    """A Tune callback in the sweep's driver: frees a distributed trial's workers when Tune ends it.

    Ray Train's controller lives in the trial's process; when Tune ends that process (ASHA's stop,
    a crash), the workers' placement group outlives it (Ray frees a group only when both its
    creator and the job are gone) and holds its CPUs/GPUs for the rest of the sweep. Rank 0
    reports the group's id (`placement_group`); this removes it once the trial is over or about
    to be retried. A trial that finished normally has freed it already (nothing to do)."""
    from ray.tune import Callback

    class PlacementGroupReaper(Callback):
        def _reap(self, trial: Any) -> None:
            group = (trial.last_result or {}).get("placement_group")
            if not group:
                return
            from autolearn.internals import remove_placement_group_by_id

            try:
                if remove_placement_group_by_id(group):
                    log.debug("freed the workers of trial %s (placement group %s)", trial.trial_id, group)
            except Exception:  # a group Ray forgot already: nothing held
                log.debug("placement group %s of trial %s not removed", group, trial.trial_id, exc_info=True)

        def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            self._reap(trial)

        def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            self._reap(trial)

        def on_trial_recover(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            self._reap(trial)

    return PlacementGroupReaper()

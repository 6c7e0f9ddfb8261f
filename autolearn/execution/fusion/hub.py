"""The hub: one small Ray actor per fused sweep that seats member trials in fused workers.

A member joins with its node and GPU ids; the hub seats it in a worker on the same node and GPU
that has a free slot, or starts a new worker there. Workers reserve no resources of their own:
each member trial reserves `1/K` of the group's CPUs and GPUs through Ray Tune, so Tune's own
resource accounting runs at most K members per group's worth of resources, and a worker never
waits for resources its members hold (no deadlock). A slot freed by a finished or stopped member
is taken by the next member to arrive, so a worker stays full until the sweep runs out of configs.

The driver owns the hub (`open_hub`), and the hub owns its workers: both end with the sweep.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HubSettings:
    capacity: int          # K: members per fused worker
    threads: int           # torch threads of a worker: the group's CPUs
    checkpoint_every: int | str  # N epochs or 'auto'
    window_s: float = 0.3  # how long a fresh worker waits for members arriving together
    idle_s: float = 60.0   # a member that takes no result for this long is dropped (its process died)
    ahead: int = 1         # epochs a worker may train ahead of what its slowest member reported


class Hub:
    """Seats members in workers; a threaded Ray actor (joins wait on worker start-up in parallel)."""

    def __init__(self, job_ref: list[Any], settings: HubSettings) -> None:
        self.job_ref = job_ref  # in a list, so the hub never deserialises the job (no torch here)
        self.settings = settings
        self.lock = threading.Lock()
        self.workers: dict[tuple[str, str], list[Any]] = {}
        self.seated: dict[Any, set[str]] = {}  # worker -> member keys
        self.seat_of: dict[str, Any] = {}

    def join(self, key: str, config: dict[str, Any], state: bytes | None, node: str, gpu_ids: str) -> tuple[Any, int]:
        """Seat a member; returns (its worker, the epoch it resumes after)."""
        with self.lock:
            self._unseat(key)
            worker = self._free_worker((node, gpu_ids))
            self.seated[worker].add(key)
            self.seat_of[key] = worker
        import ray

        try:
            return worker, ray.get(worker.add.remote(key, config, state))
        except ray.exceptions.RayActorError:
            self.leave(key, broken=True)
            raise

    def prestart(self, node: str, count: int) -> None:
        """Start `count` CPU workers on `node` now, so their start-up (torch, its first optimizer)
        overlaps Ray Tune starting the member trials instead of following it."""
        with self.lock:
            pool = self.workers.setdefault((node, ""), [])
            while len(pool) < count:
                worker = _start_worker(self.job_ref, self.settings, node, "")
                pool.append(worker)
                self.seated[worker] = set()

    def leave(self, key: str, broken: bool = False) -> None:
        """A member ended (or found its worker dead: `broken`, the worker takes no one else)."""
        with self.lock:
            worker = self.seat_of.get(key)
            self._unseat(key)
            if broken and worker is not None:
                for pool in self.workers.values():
                    if worker in pool:
                        pool.remove(worker)
                self.seated.pop(worker, None)
                return
        if worker is not None:
            worker.leave.remote(key)

    def _unseat(self, key: str) -> None:
        worker = self.seat_of.pop(key, None)
        if worker is not None and worker in self.seated:
            self.seated[worker].discard(key)

    def _free_worker(self, place: tuple[str, str]) -> Any:
        pool = self.workers.setdefault(place, [])
        for worker in pool:
            if len(self.seated[worker]) < self.settings.capacity:
                return worker
        worker = _start_worker(self.job_ref, self.settings, *place)
        pool.append(worker)
        self.seated[worker] = set()
        log.info("fused worker %d started on node %s", sum(map(len, self.workers.values())), place[0][:8])
        return worker


def _start_worker(job_ref: list[Any], s: HubSettings, node: str, gpu_ids: str) -> Any:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from autolearn.execution.fusion.worker import FusedWorker

    actor = ray.remote(FusedWorker).options(
        num_cpus=0, num_gpus=0, max_concurrency=2 * s.capacity + 8,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False))
    return actor.remote(job_ref[0], s.threads, gpu_ids, s.checkpoint_every, s.capacity, s.window_s, s.idle_s,
                        s.ahead)


_OPEN: dict[str, Any] = {}  # the driver's handles: Ray ends an actor whose last handle is gone


def hub_name(experiment_dir: str) -> str:
    return f"autolearn-fusion:{experiment_dir}"


def open_hub(experiment_dir: str, job: Any, settings: HubSettings, prestart: int = 0) -> Any:
    """Start the sweep's hub on the driver (which owns it), and `prestart` CPU workers on this node;
    a leftover hub of the same sweep is replaced."""
    import ray

    close_hub(experiment_dir)
    hub: Any = ray.remote(Hub).options(name=hub_name(experiment_dir), num_cpus=0, max_concurrency=64).remote(
        [ray.put(job)], settings)
    _OPEN[experiment_dir] = hub
    if prestart:
        hub.prestart.remote(ray.get_runtime_context().get_node_id(), prestart)
    return hub


def open_hub_of(experiment_dir: str) -> Any | None:
    """The hub this driver opened for the sweep, or None."""
    return _OPEN.get(experiment_dir)


def close_hub(experiment_dir: str) -> None:
    """End the hub and with it every fused worker (it owns them)."""
    import ray

    hub = _OPEN.pop(experiment_dir, None)
    if hub is not None:
        ray.kill(hub)

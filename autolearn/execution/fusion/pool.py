"""The fused driver's group hosts: where each group trains, behind one interface.

In the driver's process (one machine, no GPUs) a host is a `GroupHost` called directly, and a round
trains every busy group one after another; on Ray each host is an actor (`remote_host`), every busy
group trains at once, and a round ends as soon as the first is back (the others go on meanwhile).
The driver calls `seat`, `train_round`, `drop`, `replace` and `close` and never asks which it is.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from autolearn.execution.fusion.host import Epoch, GroupHost, remote_host


@dataclass
class Slot:
    """One group host and the trials it trains; `pending` holds a remote host's epoch in flight."""

    host: Any
    members: dict[str, Any] = field(default_factory=dict)
    pending: Any = None
    done: list[Epoch] | None = None
    error: BaseException | None = None
    started: float = 0.0


class HostPool:
    """`hosts` group hosts for `job`, in this process (`remote` False) or as Ray actors."""

    def __init__(self, job: Any, hosts: int, remote: bool, threads: int, cpus: float, gpus: float,
                 checkpoint_every: int | str, costs: bool = False) -> None:
        self.job, self.remote, self.threads, self.cpus, self.gpus = job, remote, threads, cpus, gpus
        self.every, self.costs = checkpoint_every, costs
        self.slots = [Slot(self._new_host()) for _ in range(hosts)]

    def _new_host(self) -> Any:
        if self.remote:
            return remote_host(self.job, self.cpus, self.gpus, self.every, self.costs)
        return GroupHost(self.job, self.threads, self.every, costs=self.costs)

    def seat(self, slot: Slot, seats: list[tuple[str, dict[str, Any], bytes | None]]) -> list[int]:
        """Add members (key, config, checkpoint bytes) to a group; the epoch each goes on from."""
        if self.remote:
            import ray

            return [int(e) for e in ray.get([slot.host.add.remote(k, c, s) for k, c, s in seats])]
        return [slot.host.add(k, c, s) for k, c, s in seats]

    def train_round(self) -> list[Slot]:
        """Train an epoch of the busy groups; the slots whose epoch is back (`done`, or `error`)."""
        busy = [s for s in self.slots if s.members]
        if not self.remote:
            for slot in busy:
                slot.started = time.time()
                try:
                    slot.done = slot.host.train_epoch()
                except Exception as err:  # its members fail, and are retried
                    slot.error = err
            return busy
        import ray

        for slot in busy:
            if slot.pending is None:
                slot.started = time.time()
                slot.pending = slot.host.train_epoch.remote()
        ready, _ = ray.wait([s.pending for s in busy if s.pending is not None], num_returns=1)
        back = [s for s in busy if s.pending in ready]
        for slot in back:
            try:
                slot.done = ray.get(slot.pending)
            except Exception as err:  # a dead actor, a training error: its members fail
                slot.error = err
            slot.pending = None
        return back

    def drop(self, slot: Slot, key: str) -> None:
        if self.remote:
            slot.host.drop.remote(key)
        else:
            slot.host.drop(key)

    def replace(self, slot: Slot) -> None:
        """A fresh host for a slot whose host failed (a remote one is killed first)."""
        if self.remote:
            import ray

            ray.kill(slot.host, no_restart=True)
        slot.host, slot.pending, slot.done, slot.error = self._new_host(), None, None, None

    def close(self) -> None:
        if not self.remote:
            return
        import ray

        for slot in self.slots:
            try:
                ray.kill(slot.host, no_restart=True)
            except Exception:  # already gone
                pass

"""The fused worker: one Ray actor that trains a group of member trials epoch by epoch.

Members (Ray Tune trials, see `member.py`) `add` themselves, then each asks `next(key)` for its
next epoch's metrics (and, on checkpoint epochs, the solo-format checkpoint as bytes). The
training thread trains the next epoch for every member while each has fewer than `ahead` results
not yet taken: with a scheduler that may stop members, `ahead` is 1 (at most one epoch trained
ahead of the slowest member, while it reports to Tune, so a stopped member wastes at most one
epoch); without one, the whole budget (training never waits for Tune's bookkeeping). A member that
leaves (finished, stopped by the scheduler, failed) is dropped before the next epoch; one that
has not asked for its result for `idle_s` (its process died) is dropped too.

Configs the fused core cannot batch (`fuse_blocker`) are trained by a `SoloGroup` in the same
worker, one after another, exactly as alone.
"""
from __future__ import annotations

import io
import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from autolearn.training.cadence import Cadence

log = logging.getLogger(__name__)

Result = tuple[dict[str, Any], bytes | None, bool]  # metrics, checkpoint bytes (or None), done


class FusedWorker:
    """Holds the member groups of one fused worker and the thread that trains them."""

    def __init__(self, job: Any, threads: int, gpu_ids: str, checkpoint_every: int | str, capacity: int,
                 window_s: float, idle_s: float, ahead: int) -> None:
        if gpu_ids:  # the members' GPU: this actor reserves none (its members hold the group's share)
            from autolearn.internals import show_gpus_to_this_process

            show_gpus_to_this_process(gpu_ids)
        import ray
        import torch

        from autolearn.training.group import SoloGroup, make_group

        torch.set_num_threads(max(1, threads))
        device = torch.device("cuda", 0) if gpu_ids and torch.cuda.is_available() else torch.device("cpu")
        self.job = job
        self.fused = make_group(job, device)
        self.solo = SoloGroup(job, device)
        self.where = {"node": ray.get_runtime_context().get_node_id(), "gpu_ids": gpu_ids}
        self.every, self.capacity, self.window_s, self.idle_s = checkpoint_every, capacity, window_s, idle_s
        self.ahead = max(1, ahead)
        self.cond = threading.Condition()
        self.joining: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        self.leaving: set[str] = set()
        self.left: set[str] = set()  # ended members: a late `next` gets "done", not an error
        self.results: dict[str, deque[Result]] = {}
        self.polled: dict[str, float] = {}
        self.opened: float | None = None
        self.error: BaseException | None = None
        self.blocked: set[str] = set()
        self.cadence: dict[str, Cadence] = {}
        threading.Thread(target=self._run, name="autolearn-fused", daemon=True).start()

    # --- called by members (Ray actor methods, on the actor's thread pool) ---------------------

    def add(self, key: str, config: dict[str, Any], state: bytes | None) -> int:
        """Queue a member for the next epoch; returns the epoch it resumes after (0: from scratch)."""
        loaded = _load(state) if state is not None else None
        with self.cond:
            self.joining.append((key, config, loaded))
            self.left.discard(key)  # a retried trial rejoins under its id
            self.results[key] = deque()
            self.polled[key] = time.monotonic()
            self.opened = self.opened or time.monotonic()
            self.cond.notify_all()
        return int(loaded["epoch"]) if loaded else 0

    def next(self, key: str) -> Result:
        """The member's next epoch (blocks until trained); raises the training error, if any."""
        with self.cond:
            while True:
                self.polled[key] = time.monotonic()
                if self.error is not None:
                    raise RuntimeError(f"the fused worker failed: {self.error!r}") from self.error
                queue = self.results.get(key)
                if queue is None and key in self.left:  # its trial ended (the driver said so)
                    return {}, None, True
                if queue is None:
                    raise RuntimeError(f"member {key} is not in this fused worker (dropped as idle?)")
                if queue:
                    out = queue.popleft()
                    self.cond.notify_all()
                    return out
                self.cond.wait(timeout=1.0)

    def leave(self, key: str) -> None:
        with self.cond:
            if self.results.pop(key, None) is not None:
                self.leaving.add(key)
                self.polled.pop(key, None)
                self.left.add(key)
            self.cond.notify_all()

    def load(self) -> int:
        """Members here now (for the hub's slot count)."""
        with self.cond:
            return len(self.results)

    # --- the training thread ---------------------------------------------------------------

    def _ready(self) -> bool:
        """Train when there is someone to train, everyone took their last result, and, for a fresh
        group, the opening window (for members that arrive together) has passed or the group is full."""
        training = bool(self.fused.active() or self.solo.active())
        if not (self.joining or training) or any(len(q) >= self.ahead for q in self.results.values()):
            return False
        if not training and self.opened is not None and len(self.results) < self.capacity:
            return time.monotonic() - self.opened >= self.window_s
        return True

    def _drop_idle(self) -> None:
        now = time.monotonic()
        for key, last in list(self.polled.items()):
            if now - last > self.idle_s and self.results.get(key):
                log.warning("fused worker: member %s took no result for %.0f s; dropped", key, self.idle_s)
                self.results.pop(key, None)
                self.polled.pop(key, None)
                self.leaving.add(key)

    def _take_changes(self) -> tuple[list[tuple[str, dict[str, Any], dict[str, Any] | None]], set[str]]:
        with self.cond:
            while not self._ready():
                self._drop_idle()
                self.cond.wait(timeout=min(self.window_s, 1.0))
            self.opened = None
            joining, leaving = self.joining, self.leaving
            self.joining, self.leaving = [], set()
            return joining, leaving

    def _run(self) -> None:
        from autolearn.training.group import fuse_blocker

        try:
            _warm_up()
            while True:
                joining, leaving = self._take_changes()
                for key in leaving:
                    self.fused.drop(key)
                    self.solo.drop(key)
                for key, config, state in joining:  # after the drops: a retried trial may rejoin
                    reason = fuse_blocker(self.job, config)
                    if reason is not None and reason not in self.blocked:
                        self.blocked.add(reason)
                        log.info("fused worker: configs that cannot fuse train one by one here: %s", reason)
                    (self.solo if reason is not None else self.fused).add(key, config, state)
                    self.cadence[key] = Cadence(self.every, self.job.train.epochs)
                self._publish(self._epoch())
        except BaseException as err:  # members raise it from next(): their trials fail and are retried
            log.exception("fused worker failed")
            with self.cond:
                self.error = err
                self.cond.notify_all()

    def _epoch(self) -> list[tuple[str, Result]]:
        out = []
        for group in (self.fused, self.solo):
            if not group.active():
                continue
            for key, metrics in group.train_epoch().items():
                done = bool(metrics["diverged"]) or key not in group.active()
                save = not metrics["diverged"] and (done or self.cadence[key].due(int(metrics["epoch"])))
                blob = _dump(group.member_state(key)) if save else None
                out.append((key, ({**metrics, **self.where}, blob, done)))
        return out

    def _publish(self, results: list[tuple[str, Result]]) -> None:
        with self.cond:
            for key, result in results:
                queue = self.results.get(key)
                if queue is None:  # left while its epoch trained
                    self.fused.drop(key)
                    self.solo.drop(key)
                    continue
                queue.append(result)
            self.cond.notify_all()


def _warm_up() -> None:
    """Build a throwaway optimizer while no member has arrived yet: the first one in a process
    imports `torch._dynamo` (2 s and more), which would otherwise delay the first epoch."""
    import torch

    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def _dump(state: Mapping[str, Any]) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    return buffer.getvalue()


def _load(blob: bytes) -> dict[str, Any]:
    import torch

    return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)

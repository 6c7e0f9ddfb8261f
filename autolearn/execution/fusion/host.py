"""The group host: one process's fused group of member configs, trained epoch by epoch on request.

The sweep's driver (`driver.py`) owns the members' trials and every decision about them; a host
only trains. It holds a fused group (`training/fused/`: one batched model) and, beside it, a
`SoloGroup` for configs the fused core cannot batch (`fuse_blocker`, said once per reason). On a
single machine without GPUs the host lives in the driver's own process (no Ray at all); on a
cluster or a GPU it is a Ray actor holding the group's resources, placed like a trial
(`remote_host`). Either way the driver calls the same three methods.
"""
from __future__ import annotations

import io
import logging
import os
import socket
from collections.abc import Mapping
from typing import Any

from autolearn.training.cadence import Cadence

log = logging.getLogger(__name__)

Epoch = tuple[str, dict[str, Any], bytes | None, bool]  # key, metrics, checkpoint bytes (or None), done
FAILED = "__failed__"  # in a member's metrics: its epoch raised this (type and message); it left the group


class GroupHost:
    """The members of one fused group, trained together; checkpoints leave as solo-format bytes."""

    def __init__(self, job: Any, threads: int, checkpoint_every: int | str, gpu_ids: str = "",
                 costs: bool = False) -> None:
        if gpu_ids:
            from autolearn.internals import show_gpus_to_this_process

            show_gpus_to_this_process(gpu_ids)
        import torch

        from autolearn.training.group import SoloGroup, make_group

        torch.set_num_threads(max(1, threads))
        device = torch.device("cuda", 0) if gpu_ids and torch.cuda.is_available() else torch.device("cpu")
        self.job, self.every, self.device = job, checkpoint_every, device
        self.measure_costs = costs
        self.costs: dict[str, dict[str, float]] = {}
        self.fused = make_group(job, device)
        self.solo = SoloGroup(job, device)
        self.cadence: dict[str, Cadence] = {}
        self.blocked: set[str] = set()
        self.where = {"node": _node(), "gpu_ids": gpu_ids, "hostname": socket.gethostname(), "pid": os.getpid()}
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # imports torch._dynamo now, not mid-epoch

    def add(self, key: str, config: Mapping[str, Any], state: bytes | None = None) -> int:
        """Seat a member (from scratch, or from a solo-format checkpoint); the epoch it resumes after."""
        from autolearn.training.group import fuse_blocker

        loaded = _load(state) if state is not None else None
        reason = fuse_blocker(self.job, config)
        if reason is not None and reason not in self.blocked:
            self.blocked.add(reason)
            log.warning("search.fuse: configs that cannot fuse train one by one beside the group: %s", reason)
        (self.solo if reason is not None else self.fused).add(key, config, loaded)
        self.cadence[key] = Cadence(self.every, self.job.train.epochs)
        if self.measure_costs:
            self.costs[key] = self._costs(config)
        return int(loaded["epoch"]) if loaded else 0

    def _costs(self, config: Mapping[str, Any]) -> dict[str, float]:
        """`n_params` and `latency_ms` of the member's model alone, as its solo trial measures them
        (a few ms per member, so only when an objective or constraint names them). The model is
        built on a forked RNG: the members' own draws stay what they would be alone."""
        import numpy as np
        import torch

        from autolearn.training.costs import model_costs
        from autolearn.training.loop import Evaluator

        with torch.random.fork_rng(devices=[]):
            model = Evaluator(self.job, config, self.device).model
        x_val = torch.as_tensor(np.asarray(self.job.data.x_val), dtype=torch.float32, device=self.device)
        return model_costs(model, x_val)

    def drop(self, key: str) -> None:
        """Stop training a member (stopped early): from the next epoch it costs nothing."""
        self.fused.drop(key)
        self.solo.drop(key)
        self.cadence.pop(key, None)
        self.costs.pop(key, None)

    def train_epoch(self) -> list[Epoch]:
        """One epoch of every member; a member done (its last epoch, or diverged) leaves the group,
        with its final checkpoint. A member trained one by one whose epoch raised leaves it too, and
        is reported with `FAILED`; an error of the fused core itself fails the whole call."""
        out: list[Epoch] = []
        for group in (self.fused, self.solo):
            if not group.active():
                continue
            for key, metrics in group.train_epoch().items():
                done = bool(metrics["diverged"]) or key not in group.active()
                cadence = self.cadence.get(key)
                due = cadence is not None and cadence.due(int(metrics["epoch"]))
                save = not metrics["diverged"] and (done or due)
                blob = _dump(group.member_state(key)) if save else None
                out.append((key, {**metrics, **self.costs.get(key, {}), **self.where}, blob, done))
                if done:
                    self.cadence.pop(key, None)
                    self.costs.pop(key, None)
        for key, err in self.solo.failed.items():  # one member's own fault: only it fails
            self.cadence.pop(key, None)
            self.costs.pop(key, None)
            out.append((key, {FAILED: f"{type(err).__name__}: {err}"}, None, True))
        return out


def remote_host(job: Any, cpus: float, gpus: float, checkpoint_every: int | str, costs: bool = False) -> Any:
    """A `GroupHost` in a Ray actor holding the group's resources (a trial's placement); its GPUs are
    the ones Ray gives the actor."""
    import ray

    actor = ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=0)(_RemoteHost)
    return actor.remote(job, max(1, int(cpus)), checkpoint_every, costs)


class _RemoteHost(GroupHost):
    def __init__(self, job: Any, threads: int, checkpoint_every: int | str, costs: bool) -> None:
        import ray

        gpu_ids = ",".join(str(g) for g in ray.get_gpu_ids())
        super().__init__(job, threads, checkpoint_every, gpu_ids, costs)


def _node() -> str:
    try:
        import ray

        if ray.is_initialized():
            return str(ray.get_runtime_context().get_node_id())
    except Exception:  # (outside a Ray process the node is this machine)
        pass
    return socket.gethostname()


def _dump(state: Mapping[str, Any]) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    return buffer.getvalue()


def _load(blob: bytes) -> dict[str, Any]:
    import torch

    return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)

"""The fused core: members in, per-member epochs out; buckets rebuilt when membership changes.

Members are handed in as their solo objects (the model built with the member's seed, its torch
optimizer, its batch size and data-order generator); the core reads everything it needs from them
and writes the trained state back into them on `sync`, so checkpoints keep torch's own formats.

How members are split into buckets is a cost trade: one bucket amortises the per-op overhead over
more members, but padding a narrow member to a wide one costs (wide/narrow)^2 in the hidden
matmuls. `max_pad` bounds the width ratio inside a bucket; `mix_batches` lets batch sizes that are
multiples of the smallest share a bucket (stepping on its ticks). Measured on the CPU with random
seed-space configs (benchmarks/fused_micro.py, docs/BENCHMARKS.md): max_pad 2 with mixed batches
is the best or near it at K = 8 and 32; padding everything to the widest member (max_pad inf)
loses to solo on the CPU, where the wide members' matmuls are the cost, not the op overhead.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch

from .bucket import Bucket, Data, Member
from .layers import NotFusable, read_net
from .optimizers import COUNTS_STEPS, read_hyper


def partition(members: Iterable[Member], max_pad: float, mix_batches: bool = True) -> list[list[Member]]:
    """Buckets: same MLP family, widths within max_pad, and one batch size (or, with `mix_batches`,
    sizes that are all multiples of the bucket's smallest: they then step on its ticks)."""
    families: dict[object, list[Member]] = {}
    for m in members:
        families.setdefault(m.shape.family(), []).append(m)
    buckets: list[list[Member]] = []
    for group in families.values():
        rest = sorted(group, key=lambda m: m.batch_size)
        while rest:
            tick = rest[0].batch_size
            same = [m for m in rest if _joins(m.batch_size, tick, mix_batches)]
            rest = [m for m in rest if not _joins(m.batch_size, tick, mix_batches)]
            same.sort(key=lambda m: max(m.shape.widths))
            current: list[Member] = []
            for m in same:
                if current and max(m.shape.widths) > max_pad * max(current[0].shape.widths):
                    buckets.append(current)
                    current = []
                current.append(m)
            buckets.append(current)
    return buckets


def _joins(batch_size: int, tick: int, mix_batches: bool) -> bool:
    return batch_size % tick == 0 if mix_batches else batch_size == tick


class FusedCore:
    """Many solo MLP trainings as a few batched ones, on one device."""

    def __init__(self, x_train: torch.Tensor, y_train: torch.Tensor, x_val: torch.Tensor, y_val: torch.Tensor,
                 binary: bool, device: torch.device, max_pad: float = 2.0, mix_batches: bool = True) -> None:
        flat = lambda x: x.reshape(len(x), -1).to(device)
        self.input_shape = tuple(x_train.shape[1:])
        self.data = Data(flat(x_train), y_train.to(device), flat(x_val), y_val.to(device), binary)
        self.device, self.max_pad, self.mix_batches = device, max_pad, mix_batches
        self.members: dict[str, Member] = {}
        self._buckets: list[Bucket] | None = None

    def add(self, key: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch_size: int,
            generator: torch.Generator, dropout_generator: torch.Generator | None = None) -> None:
        """Take a member in its solo form (fresh or resumed); raises NotFusable with the reason."""
        if key in self.members:
            raise KeyError(f"member {key!r} is already in the group")
        shape = read_net(model, self.input_shape)
        if any(h.dropout for h in shape.hidden) and dropout_generator is None:
            raise NotFusable("dropout needs the member's dropout generator")
        hyper = read_hyper(optimizer)
        steps = _solo_steps(optimizer, hyper.kind)
        self.sync_all()
        self.members[key] = Member(key, model, optimizer, shape, hyper, int(batch_size), generator,
                                   dropout_generator, steps)
        self._buckets = None

    def remove(self, key: str) -> Member:
        """Stop training a member; its solo objects hold its state as of now."""
        self.sync_all()
        self._buckets = None
        return self.members.pop(key)

    def keys(self) -> list[str]:
        return list(self.members)

    def nbytes(self) -> int:
        """Bytes held by the buckets' flat buffers (parameters, gradients, optimizer state)."""
        return sum(t.numel() * t.element_size() for b in self.buckets()
                   for t in (b.params, b.grads, *b.state.values()))

    def buckets(self) -> list[Bucket]:
        if self._buckets is None:
            groups = partition(self.members.values(), self.max_pad, self.mix_batches)
            self._buckets = [Bucket(ms, self.data, self.device) for ms in groups]
        return self._buckets

    def train_epoch(self) -> dict[str, float]:
        """One epoch for every member, at the lr its solo optimizer holds now; key -> mean train loss."""
        out: dict[str, float] = {}
        for bucket in self.buckets():
            lrs = [float(m.optimizer.param_groups[0]["lr"]) for m in bucket.members]
            out.update(zip((m.key for m in bucket.members), bucket.train_epoch(lrs)))
        return out

    def validate(self) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for bucket in self.buckets():
            losses, accuracies = bucket.validate()
            out.update({m.key: (loss, acc) for m, loss, acc in zip(bucket.members, losses, accuracies)})
        return out

    def sync_all(self) -> None:
        """Write every member's trained state into its solo model and optimizer."""
        for bucket in self._buckets or []:
            bucket.write_back()

    def sync(self, key: str) -> Member:
        for bucket in self._buckets or []:
            if any(m.key == key for m in bucket.members):
                bucket.write_back()
        return self.members[key]


def _solo_steps(optimizer: torch.optim.Optimizer, kind: str) -> int:
    """How many steps a (resumed) solo optimizer has taken; for SGD only 'has it any state' matters."""
    states = [optimizer.state.get(p, {}) for p in optimizer.param_groups[0]["params"]]
    if not states or not states[0]:
        return 0
    if kind in COUNTS_STEPS:
        return int(float(states[0]["step"]))
    return 1

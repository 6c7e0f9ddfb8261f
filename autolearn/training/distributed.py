"""One rank of a data-parallel trial: the built-in `Fitter`, its model wrapped in DDP, its data sharded.

Ray-free (torch.distributed only), so the equivalence with a single process can be read here.

**Batch semantics: `train.batch_size` is the global batch.** Every rank draws the same shuffled
order (the same seeded generator), cuts it into the same global batches, and takes its shard of
each (`shard`: rank r gets positions r, r+N, ..., like `DistributedSampler` without padding). A
rank's loss is the *sum* over its shard scaled by N/len(global batch); DDP averages gradients over
the N ranks, so every step applies the gradient of the mean loss over the whole global batch:
the same update a single process makes with the same batch, also for a last batch that does not
split evenly (a rank with an empty shard contributes zero). N workers therefore change the speed
of a trial, not its result (to float tolerance), and a searched `batch_size` means the same with
1 or N workers. Models with batch norm are the exception: each rank normalises over its own shard.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from autolearn.training.loop import Fitter, TrainJob


def shard(indices: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank `rank`'s share of one global batch: every `world_size`-th position, from `rank`."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
    return indices[rank::world_size]


class DistributedFitter(Fitter):
    """A `Fitter` whose epoch is one rank's part of a DDP epoch (call after `init_process_group`).

    The state it saves and loads is the plain model's (no `module.` prefix), so a checkpoint of a
    distributed trial is read by the same code as any other (`evaluate_on_test`, retrain)."""

    def __init__(self, job: TrainJob, config: Mapping[str, Any], device: torch.device,
                 rank: int, world_size: int) -> None:
        super().__init__(job, config, device)
        from torch.nn.parallel import DistributedDataParallel

        self.rank, self.world_size = rank, world_size
        self.ddp = DistributedDataParallel(self.model, device_ids=[device.index] if device.type == "cuda" else None)
        self.sum_loss: nn.Module = type(self.loss_fn)(reduction="sum")

    def _shard_loss_sum(self, idx: torch.Tensor) -> torch.Tensor:
        logits = self.ddp(self.x_train[idx])
        y = self.y_train[idx]
        return self.sum_loss(logits.squeeze(1) if self.binary else logits, y)

    def train_epoch(self) -> float:
        """One epoch over this rank's shards; returns the mean loss over ALL ranks' samples.

        No early exit on a nan batch: every rank must make the same number of DDP steps, and a
        nan gradient reaches all of them through the all-reduce, so all report it together."""
        import torch.distributed as dist

        self.ddp.train()
        n = len(self.x_train)
        order = torch.randperm(n, generator=self.generator).to(self.device)  # identical on every rank
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        for start in range(0, n, self.batch_size):
            batch = order[start:start + self.batch_size]
            self.optimizer.zero_grad(set_to_none=True)
            loss_sum = self._shard_loss_sum(shard(batch, self.rank, self.world_size))
            (loss_sum * (self.world_size / len(batch))).backward()  # DDP averages: the batch mean
            self.optimizer.step()
            total += loss_sum.detach().double()
        dist.all_reduce(total)
        return float(total) / n

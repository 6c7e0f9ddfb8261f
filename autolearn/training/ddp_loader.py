"""One rank of a data-parallel trial over torch Datasets: `LoaderFitter` with its model in DDP.

The arrays path (`distributed.py`) shards each global batch itself; here the data set may be too
large to hold, so each rank reads its own shard through a `DistributedSampler` (`torch_data.
build_loaders`): seeded, reshuffled each epoch with `set_epoch`, `batch_size // world_size` items
per rank and step, so `train.batch_size` stays the global batch (rounded down to a multiple of the
workers). The sampler pads the last shard by repeating up to `world_size - 1` items, so the
equality with one process that `distributed.py` proves holds here only when the training part
divides evenly; validation is all-reduced over the shards (with the same padding).

Like `DistributedFitter`, an epoch never stops early on a nan batch: every rank must make the
same number of DDP steps, and a nan gradient reaches all of them through the all-reduce.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from autolearn.training.loader_fit import LoaderFitter, evaluate_loader
from autolearn.training.loop import TrainJob


class DistributedLoaderFitter(LoaderFitter):
    """A `LoaderFitter` whose epoch is one rank's part of a DDP epoch (after `init_process_group`)."""

    def __init__(self, job: TrainJob, config: Mapping[str, Any], device: torch.device,
                 rank: int, world_size: int) -> None:
        self.rank, self.world_size = rank, world_size  # read by LoaderFitter._setup_data
        super().__init__(job, config, device)
        from torch.nn.parallel import DistributedDataParallel

        self.ddp = DistributedDataParallel(self.model, device_ids=[device.index] if device.type == "cuda" else None)
        self.epochs_done = 0

    def load_state(self, state: Mapping[str, Any]) -> int:
        self.epochs_done = super().load_state(state)
        return self.epochs_done

    def train_epoch(self) -> float:
        """This rank's shard for one epoch; returns the mean loss over ALL ranks' samples."""
        import torch.distributed as dist

        if self.loaders.sampler is not None:
            self.loaders.sampler.set_epoch(self.epochs_done)  # a new, identical-on-every-rank order
        self.ddp.train()
        total = torch.zeros(2, dtype=torch.float64, device=self.device)  # loss sum, items
        for x, y in self._batches():
            self.optimizer.zero_grad(set_to_none=True)
            if self.mixed is None:
                loss = self._loss(self.ddp(x), y)
                loss.backward()
                self.optimizer.step()
            else:
                with self.mixed.autocast():
                    loss = self._loss(self.ddp(x), y)
                self.mixed.backward_step(loss, self.optimizer)
            total[0] += loss.detach().double() * len(y)
            total[1] += len(y)
        dist.all_reduce(total)
        self.epochs_done += 1
        return float(total[0] / total[1].clamp(min=1))

    def validate(self) -> tuple[float, float]:
        """Loss and accuracy over every rank's validation shard, the same number on each rank."""
        import torch.distributed as dist

        loss, accuracy = evaluate_loader(self, self.loaders.validation)
        n = float(len(self.loaders.validation.sampler))  # type: ignore[arg-type]
        sums = torch.tensor([loss * n, accuracy * n, n], dtype=torch.float64, device=self.device)
        dist.all_reduce(sums)
        return float(sums[0] / sums[2].clamp(min=1)), float(sums[1] / sums[2].clamp(min=1))


__all__ = ["DistributedLoaderFitter"]

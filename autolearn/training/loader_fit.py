"""The built-in loop over DataLoaders: a `Fitter` whose batches come from `torch_data.build_loaders`.

The epoch step, precision, compile, schedules and checkpoints are `Fitter`'s own; only where the
batches come from differs, so both data paths train and checkpoint the same way. Batches move to
the trial's device as they arrive (`non_blocking` pays off with `train.loader.pin_memory`).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch

from autolearn.training.loop import Evaluator, Fitter, TrainJob
from autolearn.training.optim import FULL_BATCH
from autolearn.training.torch_data import TorchData, build_datasets, build_loaders


class LoaderFitter(Fitter):
    """A Fitter reading its data through DataLoaders (built in this process, from the builder).

    `rank`/`world_size` are those of a data-parallel trial (`ddp_loader.py`): its loaders then
    read this rank's shard, `batch_size // world_size` items per step."""

    rank = 0
    world_size = 1

    def _setup_data(self, job: TrainJob) -> None:
        data = job.data
        if not isinstance(data, TorchData):
            raise TypeError(f"LoaderFitter reads a TorchData, got {type(data).__name__}")
        seed = self.settings.seed if self.settings.seed is not None else 0
        batch = int(self.settings.batch_size)
        if self.settings.optimizer in FULL_BATCH:  # `gd`: one batch of the whole training part
            batch = len(build_datasets(data)["train"])  # type: ignore[arg-type]
        self.loaders = build_loaders(data, self.settings.loader, max(1, batch // self.world_size), rank=self.rank,
                                     world_size=self.world_size, seed=seed, device=self.device)
        self.n_train = len(self.loaders.train.dataset)  # type: ignore[arg-type]
        self.batch_size = batch
        # One validation batch's inputs, read here without loader workers: for what times the model
        # on an example batch (per-example latency), as `x_val` is on the arrays path.
        val = self.loaders.validation.dataset
        self.x_val = torch.stack([val[i][0] for i in range(min(batch, len(val)))]).to(self.device)  # type: ignore[arg-type]

    def _move(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.to(self.device, non_blocking=True)
        y = y.to(self.device, non_blocking=True)
        return x, (y.float() if self.binary else y.long())

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in self.loaders.train:
            yield self._move(x, y)

    def validate(self) -> tuple[float, float]:
        return evaluate_loader(self, self.loaders.validation)

    def state(self, epoch: int) -> dict[str, Any]:
        # The sampler's generator is the data order here (the arrays path's is `self.generator`).
        sampler_generator = getattr(self.loaders.train.sampler, "generator", None)
        state = super().state(epoch)
        if sampler_generator is not None:
            state["sampler"] = sampler_generator.get_state()
        return state

    def load_state(self, state: Mapping[str, Any]) -> int:
        sampler_generator = getattr(self.loaders.train.sampler, "generator", None)
        if "sampler" in state and sampler_generator is not None:
            sampler_generator.set_state(state["sampler"])
        return super().load_state(state)


@torch.no_grad()
def evaluate_loader(scorer: Evaluator, loader: Any) -> tuple[float, float]:
    """(mean loss, accuracy) over a loader's batches, in eval mode (autocast when the fitter has it)."""
    scorer.model.eval()
    mixed = getattr(scorer, "mixed", None)
    loss_sum, correct, n = 0.0, 0.0, 0
    for x, y in loader:
        x = x.to(scorer.device)
        y = (y.float() if scorer.binary else y.long()).to(scorer.device)
        if mixed is not None:
            with mixed.autocast():
                logits = scorer.model(x)
        else:
            logits = scorer.model(x)
        logits = logits.float()
        loss_sum += float(scorer._loss(logits, y)) * len(y)
        pred = (logits.squeeze(1) > 0).long() if scorer.binary else logits.argmax(dim=1)
        correct += float((pred == y.long()).sum())
        n += len(y)
    return loss_sum / max(n, 1), correct / max(n, 1)


def evaluate_loader_test(job: TrainJob, config: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, float]:
    """The best trial's model scored on the test part, built on the driver like in a trial."""
    data = job.data
    if not isinstance(data, TorchData):
        raise TypeError(f"evaluate_loader_test reads a TorchData, got {type(data).__name__}")
    scorer = Evaluator(job, config, torch.device("cpu"))
    scorer.model.load_state_dict(state["model"])
    loaders = build_loaders(data, None, 256)
    loss, accuracy = evaluate_loader(scorer, loaders.test)
    return {"test_loss": loss, "test_accuracy": accuracy}

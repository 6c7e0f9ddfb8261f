"""When a trial checkpoints: every N epochs, or `auto` (from the measured epoch time); always at the end.

A checkpoint costs more than a short epoch: `torch.save`, Ray Tune persisting the folder and, with
`CheckpointConfig(num_to_keep)`, a forced snapshot of the whole experiment's state, which grows with
the number of trials. `auto` checkpoints at most every `AUTO_INTERVAL_S` seconds of training (and at
the last epoch), so a trial of sub-second epochs checkpoints a few times instead of every epoch,
while a trial of long epochs still checkpoints each one. Resume and retries stay correct: a trial
goes on from its last checkpoint (re-training, and re-reporting, at most `AUTO_INTERVAL_S` of epochs).
"""
from __future__ import annotations

import time

AUTO_INTERVAL_S = 10.0


class Cadence:
    """`due(epoch)` after each epoch: whether to checkpoint it. `every` is N epochs or 'auto';
    `sync_every` (PBT's perturbation interval) adds its multiples, whatever `every` says."""

    def __init__(self, every: int | str, epochs: int, sync_every: int | None = None) -> None:
        self.every, self.epochs, self.sync_every = every, epochs, sync_every
        self.last = time.monotonic()

    def due(self, epoch: int) -> bool:
        if epoch >= self.epochs:
            return True
        if self.sync_every and epoch % self.sync_every == 0:
            return True  # a population sweep clones trials from the checkpoints of these epochs
        if self.every != "auto":
            return epoch % int(self.every) == 0
        now = time.monotonic()
        if now - self.last >= AUTO_INTERVAL_S:
            self.last = now
            return True
        return False

"""Tell the hub at once when Ray Tune ends a member trial (finished, or stopped by the scheduler).

A member's own `finally` tells the hub too, but not always in time: with `reuse_actors`, Tune
keeps a stopped trial's actor for the next trial without stopping its thread, which then waits
in `tune.report` until that next trial comes (or the sweep ends). Its worker meanwhile trains it
one epoch ahead, and that result, never taken, holds the whole group back (`ahead`) until the
worker drops the member as idle (`HubSettings.idle_s`, 60 s). The driver knows the moment a
trial ends, so it tells the hub; the member's own later `leave` is then a no-op. Errors are left
to the member (it leaves in `finally`): a retried trial rejoins with the same id, and a late
`leave` from here could unseat it.
"""
from __future__ import annotations

from typing import Any

from ray.tune import Callback


class MemberEnded(Callback):
    """Drops a member from its fused worker when its trial completes (the driver's view)."""

    def __init__(self, experiment_dir: str) -> None:
        self.experiment_dir = experiment_dir

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        from autolearn.execution.fusion.hub import open_hub_of

        hub = open_hub_of(self.experiment_dir)
        if hub is not None:  # None: this sweep did not fuse after all (K = 1, a user trainable)
            hub.leave.remote(trial.trial_id)

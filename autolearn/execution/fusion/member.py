"""A member trial: a Ray Tune function trainable whose epochs are trained by a fused worker.

To Ray Tune a member is an ordinary trial (the searcher asks and is told per member, schedulers
decide per member, results, checkpoints, retries and `--resume` are per member); it only reports
what its worker trained. It holds `1/K` of the group's resources, so Tune runs K members for each
group's worth. It never imports torch: checkpoints travel as the bytes of the solo-format file
(`training/trainable.py`'s `checkpoint.pt`), so a member process stays small.
"""
from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHECKPOINT_FILE = "checkpoint.pt"  # the same file `training.trainable.train_trial` writes (tested)


def train_trial(config: Mapping[str, Any], hub: str) -> None:
    """Join the sweep's hub, then report each epoch the worker trained until the member is done.

    Named like the solo trainable: Ray Tune names trial folders after it, and a member's folder
    (`train_trial_<id>_...`) should not tell people or tools anything they must handle differently.

    Whatever ends the trial (done, stopped by the scheduler, an error) tells the hub in `finally`,
    so the worker stops training it at the next epoch.
    """
    import ray
    from ray import tune

    logging.getLogger("ray.train").setLevel(logging.WARNING)  # a line per checkpoint is noise
    key = tune.get_context().get_trial_id()
    state = None
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as directory:
            state = (Path(directory) / CHECKPOINT_FILE).read_bytes()
    registry = ray.get_actor(hub)
    node = ray.get_runtime_context().get_node_id()
    gpu_ids = ",".join(str(g) for g in ray.get_gpu_ids())
    joined: Any = ray.get(registry.join.remote(key, dict(config), state, node, gpu_ids))
    worker, _ = joined  # (the worker, the epoch the member resumes after)
    broken = False
    try:
        while True:
            try:
                metrics, blob, done = ray.get(worker.next.remote(key))
            except ray.exceptions.RayActorError:
                broken = True
                raise
            if not metrics:  # the trial already ended (`ended.py`): nothing more to report
                return
            _report(metrics, blob)
            if done:
                return
    finally:
        registry.leave.remote(key, broken)


def _report(metrics: dict[str, Any], blob: bytes | None) -> None:
    from ray import tune

    if blob is None:
        tune.report(metrics)
        return
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / CHECKPOINT_FILE).write_bytes(blob)
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))

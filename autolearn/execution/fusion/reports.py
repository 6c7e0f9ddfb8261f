"""What a member's report holds and where its checkpoint goes: what Tune's function trainable and
its session would have done for a trial, done by the fused driver for each member."""
from __future__ import annotations

import functools
import socket
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

CHECKPOINT_FILE = "checkpoint.pt"  # training.trainable's file: a member's checkpoint resumes solo


def train_trial(config: dict[str, Any]) -> None:
    """The name a member's `Trial` runs under, as in an unfused sweep (Tune names the trial folders
    `train_trial_<id>_...` after it); a member is trained by its group's host, so it is never called."""
    raise RuntimeError("a fused member is trained by its group host, not by its own trainable")


def auto_filled(trial: Any, metrics: dict[str, Any], took: float, done: bool, began: float,
                resumed_after: int) -> dict[str, Any]:
    """The member's metrics with the fields Tune's function trainable adds to every report.
    `took`: the group's epoch; `began`: when this run of the member started; `resumed_after`: the
    epoch it went on from."""
    last = trial.last_result or {}
    epoch = int(metrics["epoch"])
    now = time.time()
    return {**metrics, "timestamp": int(now), "checkpoint_dir_name": None, "done": bool(done),
            "training_iteration": epoch, "trial_id": trial.trial_id,
            "date": datetime.now().strftime("%Y-%m-%d_%H-%M-%S"), "time_this_iter_s": took,
            "time_total_s": float(last.get("time_total_s", 0.0) or 0.0) + took,
            "node_ip": _node_ip(), "config": dict(trial.config), "time_since_restore": now - began,
            "iterations_since_restore": epoch - resumed_after}


def persist_checkpoint(trial: Any, blob: bytes, result: dict[str, Any]) -> Any:
    """Write a member's checkpoint where Tune would (`checkpoint_00000N` in its folder) and register
    it with the trial (Tune's `num_to_keep` applies); the persisted `Checkpoint`."""
    from ray.tune import Checkpoint

    from autolearn.internals import training_result

    storage = trial.storage
    storage.current_checkpoint_index = max(storage.current_checkpoint_index, 0)
    with tempfile.TemporaryDirectory(prefix="autolearn-ckpt-") as scratch:
        (Path(scratch) / CHECKPOINT_FILE).write_bytes(blob)
        persisted = storage.persist_current_checkpoint(Checkpoint.from_directory(scratch))
    result["checkpoint_dir_name"] = storage.checkpoint_dir_name
    trial.on_checkpoint(training_result(persisted, result))
    return persisted


def checkpoint_bytes(checkpoint: Any) -> bytes | None:
    """A trial's last checkpoint as the bytes a group host seats it from (None: from scratch)."""
    if checkpoint is None:
        return None
    with checkpoint.as_directory() as directory:
        return (Path(directory) / CHECKPOINT_FILE).read_bytes()


@functools.cache
def _node_ip() -> str:
    """This machine's address, looked up once (every report carries it)."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"

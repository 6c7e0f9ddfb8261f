"""A distributed trial: the Tune function that runs one config as N data-parallel Ray Train workers.

Ray Train V2 (Ray >= 2.50) runs a `TorchTrainer` *inside* a Tune function trainable (the old
`Tuner(trainer)` form is gone). The trial's function (the "driver") holds almost nothing itself
(`DRIVER_RESOURCES`); the trainer's controller asks Ray for N worker bundles of
`cpus_per_worker`/`gpus_per_worker`, sets up `gloo` (CPU) or `nccl` (GPU) and runs `worker_loop`
on every rank. Rank 0's report of each epoch comes back to the driver (`Forward`, through a
one-slot queue, so workers never run ahead of Tune by more than a report), and the driver reports
it to Tune with the checkpoint rank 0 saved. So Tune holds the checkpoints, as for any trial:
ASHA, retries (`run.max_failures`), a resumed sweep, TensorBoard and the test score of the best
trial work unchanged. A retried trial passes Tune's checkpoint to the workers (`resume`), and
every rank loads it. When Tune stops the trial (ASHA), its driver process ends; the controller
and workers it owns go with it, and the sweep's driver frees their placement group
(`execution.workers.placement_group_reaper`).

Each rank's fitter comes from `make_rank_fitter`: `distributed.DistributedFitter` for arrays,
`ddp_loader.DistributedLoaderFitter` (sharded DataLoaders) for torch Datasets.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from autolearn.config.sections import ResourcesSpec
from autolearn.internals import let_train_workers_wait, quiet_train_reports, set_trial_dir, torch_trainer_class
from autolearn.training.cadence import Cadence
from autolearn.training.distributed import DistributedFitter
from autolearn.training.loop import TrainJob
from autolearn.training.trainable import CHECKPOINT_FILE, load_checkpoint_state, placement, run_epoch
from autolearn.values import is_uri

# The driver only waits on queues: one byte of memory is a reservation that takes no CPU (an empty
# one is not allowed), so N workers of 1 CPU fit a node of N CPUs.
DRIVER_RESOURCES: dict[str, float] = {"memory": 1}
# (job, trial config, device, rank, world size) -> a fitter with train_epoch/validate/state/load_state.
FITTER: Callable[..., DistributedFitter] = DistributedFitter


def make_rank_fitter(job: TrainJob, config: Mapping[str, Any], device: torch.device, rank: int, world: int) -> Any:
    """This rank's fitter: arrays shard each global batch (`FITTER`); torch Datasets read a
    `DistributedSampler`'s shard through DataLoaders (`ddp_loader.py`)."""
    from autolearn.training.torch_data import TorchData

    if isinstance(job.data, TorchData):
        from autolearn.training.ddp_loader import DistributedLoaderFitter

        return DistributedLoaderFitter(job, config, device, rank, world)
    return FITTER(job, config, device, rank, world)


def worker_device(requested: str, gpus_per_worker: float) -> torch.device:
    """This rank's GPU when it was given one (Ray Train picks it), else the CPU."""
    from autolearn.errors import ResourceError

    if gpus_per_worker > 0 and torch.cuda.is_available() and requested != "cpu":
        import ray.train.torch

        return ray.train.torch.get_device()
    if requested == "cuda":
        raise ResourceError("train.device is 'cuda' but the workers were given no GPU; "
                            "set resources.gpus_per_worker > 0 or device: auto")
    return torch.device("cpu")


def worker_loop(config: Mapping[str, Any]) -> None:
    """Every rank: build, resume, train; all ranks report each epoch, rank 0 with the checkpoint."""
    import ray.train
    import ray.util

    from autolearn.training.optim import step_schedule

    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    job: TrainJob = config["job"]
    set_trial_dir(config["trial_dir"])
    quiet_train_reports()
    torch.set_num_threads(max(1, int(config["cpus"])))
    fitter = make_rank_fitter(job, config["trial"], worker_device(job.train.device, config["gpus"]), rank, world)
    start = 0
    checkpoint = ray.train.get_checkpoint() or config.get("resume")
    if checkpoint is not None:
        with checkpoint.as_directory() as directory:
            start = fitter.load_state(load_checkpoint_state(directory))
    group = ray.util.get_current_placement_group()
    # The sweep's driver removes it when Tune ends the trial (`execution.workers.placement_group_reaper`).
    where = {**placement(), "placement_group": group.id.hex() if group else ""}
    epochs = fitter.settings.epochs
    cadence = Cadence(job.train.checkpoint_every, epochs)
    for epoch in range(start + 1, epochs + 1):
        metrics = {**run_epoch(fitter, epoch), "workers": world, **where}  # the same on every rank
        if metrics["diverged"] or metrics.get("oom"):
            ray.train.report(metrics)
            return
        step_schedule(fitter.settings.lr_schedule, fitter.schedule, metrics["val_loss"])
        with tempfile.TemporaryDirectory() as directory:
            saved = None
            if cadence.due(epoch) and rank == 0:
                torch.save(fitter.state(epoch), Path(directory) / CHECKPOINT_FILE)
                saved = ray.train.Checkpoint.from_directory(directory)
            ray.train.report(metrics, checkpoint=saved)


def _forward_class() -> type:
    """`_Forward` needs Ray Train's `UserCallback` as its base: built on first use (Ray is heavy)."""
    from ray.train import UserCallback

    class Forward(UserCallback):
        """In Ray Train's controller: hand rank 0's metrics and the checkpoint to the trial's driver."""

        def __init__(self, queue: Any) -> None:
            self.queue = queue

        def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
            self.queue.put((dict(metrics[0]), checkpoint))  # blocks while the driver holds the last one

    return Forward


def make_trainer(job: TrainJob, config: Mapping[str, Any], resources: ResourcesSpec, run_storage: str,
                 callbacks: list[Any], resume: Any = None, trial_dir: str = "") -> Any:
    """The `TorchTrainer` of one trial: N workers, DDP over gloo (CPU) or nccl (GPU)."""
    import ray.train
    from ray.train.torch import TorchConfig

    gpus = resources.gpus_per_worker
    loop_config = {"job": job, "trial": dict(config), "resume": resume, "trial_dir": trial_dir,
                   "cpus": resources.cpus_per_worker, "gpus": gpus}
    per_worker = {"CPU": resources.cpus_per_worker, **({"GPU": gpus} if gpus > 0 else {})}
    return torch_trainer_class()(
        worker_loop, train_loop_config=loop_config,
        torch_config=TorchConfig(backend="nccl" if gpus > 0 else "gloo"),
        scaling_config=ray.train.ScalingConfig(num_workers=resources.workers_per_trial, use_gpu=gpus > 0,
                                               resources_per_worker=per_worker),
        # Tune retries the trial (run.max_failures); Train itself does not, or a failure would count twice.
        run_config=ray.train.RunConfig(name=f"ddp-{uuid.uuid4().hex[:8]}", storage_path=run_storage,  # type: ignore[call-arg]  # V2 at run time; mypy sees V1
                                       callbacks=callbacks, failure_config=ray.train.FailureConfig(max_failures=0),
                                       # a line per report and per worker start is noise in a sweep's output
                                       logging_config=ray.train.LoggingConfig(log_level="WARNING"),
                                       # the driver may still be copying the one before last
                                       checkpoint_config=ray.train.CheckpointConfig(num_to_keep=3)),
    )


def train_distributed_trial(config: Mapping[str, Any], job: TrainJob, resources: ResourcesSpec,
                            experiment_dir: str, timeout: float | None = None) -> None:
    """Ray Tune function trainable: run the trainer in a thread, report what rank 0 reports.

    `experiment_dir` is where the experiment lives (a path or URI every node reaches): the
    workers' checkpoints go under the trial's folder there before Tune copies them."""
    from ray import tune
    from ray.util.queue import Empty, Queue

    from autolearn.training.trainable import _quiet
    from autolearn.training.watchdog import Watchdog

    _quiet()
    let_train_workers_wait()
    queue = Queue(maxsize=1, actor_options={"num_cpus": 0})
    trial_dir = tune.get_context().get_trial_dir()
    run_storage = f"{experiment_dir.rstrip('/')}/{Path(trial_dir).name}"
    trainer = make_trainer(job, config, resources, run_storage, [_forward_class()(queue)], tune.get_checkpoint(),
                           trial_dir)
    outcome: dict[str, BaseException] = {}

    def fit() -> None:
        try:
            trainer.fit()
        except BaseException as err:  # handed to the driver thread, which raises it to Tune
            outcome["error"] = err

    thread = threading.Thread(target=fit, name="autolearn-ddp-fit", daemon=True)
    thread.start()
    try:
        with Watchdog(timeout, tune.report) as watchdog:
            while True:
                try:
                    metrics, checkpoint = queue.get(timeout=0.5)
                except Empty:
                    if thread.is_alive() or not queue.empty():
                        continue
                    break
                if checkpoint is not None:  # Train's class; Tune wants its own (the same path)
                    checkpoint = tune.Checkpoint(checkpoint.path, checkpoint.filesystem)
                watchdog.report(metrics, checkpoint=checkpoint)
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
    finally:
        _remove_local(run_storage, trainer.run_config.name)


def _remove_local(storage: str, name: str) -> None:
    """The workers' copies of the checkpoints (Tune keeps its own); left in place on a URI."""
    if not is_uri(storage):
        shutil.rmtree(Path(storage) / name, ignore_errors=True)

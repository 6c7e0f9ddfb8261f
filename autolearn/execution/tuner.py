"""Build the `tune.Tuner` of an `Experiment`: where it writes, what each trial runs, with which
search algorithm, scheduler, callbacks and stopping rule.

Separate from `runner` (start Ray, fit, collect) so that resume rebuilds the same trainable and a
reader finds every Tune setting in one file. Nothing here starts Ray or runs a trial.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autolearn.config.spec import Experiment
from autolearn.search.strategies import SearchPlan, SearchRequest, get_strategy
from autolearn.values import is_uri

if TYPE_CHECKING:
    from ray.tune import Tuner

    from autolearn.training.loop import TrainJob


def storage_path(exp: Experiment) -> str:
    """`exp.storage`, absolute for local paths (Ray needs that), untouched for URIs."""
    return exp.storage if is_uri(exp.storage) else str(Path(exp.storage).expanduser().resolve())


def experiment_dir(exp: Experiment) -> str:
    """`storage/name`: the experiment folder Ray Tune and autolearn write."""
    if is_uri(exp.storage):
        return exp.storage.rstrip("/") + "/" + exp.name
    return str(Path(storage_path(exp)) / exp.name)


def tensorboard_dir(exp: Experiment) -> Path:
    """The experiment's `tensorboard/`, or a local staging folder uploaded there after a URI sweep."""
    if not is_uri(exp.storage):
        return Path(experiment_dir(exp)) / "tensorboard"
    # One folder per sweep and process: two URI sweeps of one name (or two buckets) never share it.
    tag = hashlib.sha1(experiment_dir(exp).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / "autolearn-staging" / f"{exp.name}-{tag}-{os.getpid()}" / "tensorboard"


def search_plan(exp: Experiment) -> SearchPlan:
    """The strategy's search algorithm, parameter space and trial count for this experiment."""
    return get_strategy(exp.search.strategy).build(SearchRequest.from_experiment(exp))


def build_trainable(exp: Experiment, job: TrainJob | None) -> Any:
    """What each trial runs, with its CPU/GPU reservation: the built-in trainable bound to `job`,
    or the user's `task.trainable` (imported by path, or the function itself, shipped by value)."""
    from ray import tune

    from autolearn.config.plugins import ship_by_value

    # Before anything is pickled (with_parameters puts the job in the object store at once).
    for user_code in (exp.task.trainable, getattr(exp.model, "name", None)):
        if callable(user_code):
            ship_by_value(user_code)

    if exp.resources.distributed:
        from autolearn.training.ddp_trainable import DRIVER_RESOURCES, train_distributed_trial

        distributed = tune.with_parameters(train_distributed_trial, job=job, resources=exp.resources,
                                           experiment_dir=experiment_dir(exp), timeout=exp.run.trial_timeout)
        # The workers reserve their own bundles (Ray Train); the trial itself only waits on them.
        return tune.with_resources(distributed, tune.PlacementGroupFactory([DRIVER_RESOURCES]))
    trainable = exp.task.trainable
    if trainable is None:
        from autolearn.training.trainable import train_trial

        fn: Callable[..., Any] = tune.with_parameters(train_trial, job=job, timeout=exp.run.trial_timeout)
    else:
        from autolearn.config.plugins import import_object

        fn = import_object(trainable, "task.trainable") if isinstance(trainable, str) else trainable
    resources = {"cpu": exp.resources.cpus_per_trial, "gpu": exp.resources.gpus}
    return tune.with_resources(fn, resources)


def make_tuner(exp: Experiment, job: TrainJob | None, plan: SearchPlan, callbacks: Sequence[Any] = (),
               ray_output: bool = False) -> Tuner:
    """The Tuner for a new sweep; `ray_output` turns Ray's own progress tables on (verbose=1)."""
    from ray import tune

    from autolearn.execution.snapshots import SnapshotOnTrialEnd
    from autolearn.search.population import population_plan
    from autolearn.search.schedulers import make_scheduler

    population = population_plan(exp)  # (mutable names, interval) of a pbt/pb2 sweep, else None
    run_config = tune.RunConfig(
        name=exp.name, storage_path=storage_path(exp), verbose=int(ray_output),
        callbacks=[*schedule_recorder(exp, population), *sweep_callbacks(exp, ()), SnapshotOnTrialEnd(),
                   *distributed_callbacks(exp), *callbacks],
        checkpoint_config=checkpoint_config(exp, population),
        failure_config=tune.FailureConfig(max_failures=exp.run.max_failures),
        stop=stoppers(exp),
    )
    tune_config = tune.TuneConfig(
        metric=exp.metric.name, mode=exp.metric.mode, search_alg=plan.search_alg,
        scheduler=make_scheduler(exp.scheduler.name, exp.scheduler.options, exp.max_epochs, exp.space),
        # Reusing a worker needs its training thread back within seconds; a hung trial's never
        # comes back (training/watchdog.py), so with a time limit each trial gets a fresh worker.
        # A distributed trial's process owns its Ray Train controller and workers: it must end with
        # the trial (ASHA's stop), which frees them, so it is never reused either.
        num_samples=plan.num_samples, reuse_actors=exp.run.trial_timeout is None and not exp.resources.distributed,
    )
    param_space = {**dict(exp.task.params), **plan.param_space}
    return tune.Tuner(build_trainable(exp, job), param_space=param_space, tune_config=tune_config,
                      run_config=run_config)


def sweep_callbacks(exp: Experiment, callbacks: Sequence[Any]) -> list[Any]:
    """The callbacks every sweep has, fused or not: TensorBoard, the per-trial result files, the
    failure reports and the storage guard, then the caller's (the CLI's live progress)."""
    from autolearn.inspection.failures import FailureReporter
    from autolearn.inspection.tensorboard import TensorBoardCallback

    board = TensorBoardCallback(tensorboard_dir(exp), exp.space, exp.metric.name, exp.metric.mode, exp.max_epochs,
                                exp.run.trial_timeout, exp.constraints,
                                upload_to=experiment_dir(exp) if is_uri(exp.storage) else None)
    return [board, *file_loggers(), FailureReporter(exp.run.max_failures), *storage_guard(exp), *callbacks]


def checkpoint_config(exp: Experiment, population: tuple[tuple[str, ...], int] | None) -> Any:
    """Two checkpoints kept per trial, not one: with one, a driver killed between the deletion of the
    old checkpoint and the next snapshot of Ray's state resumes a trial that points at a deleted
    checkpoint (ray-project/ray#27790); the second is the one that snapshot may still name. A
    population sweep keeps every checkpoint: a paused trial may restore another trial's checkpoint
    of several epochs ago, which a top-2 rule could have deleted meanwhile."""
    from ray import tune

    return tune.CheckpointConfig(num_to_keep=None if population else 2, checkpoint_score_attribute=exp.metric.name,
                                 checkpoint_score_order=exp.metric.mode)


def schedule_recorder(exp: Experiment, population: tuple[tuple[str, ...], int] | None) -> list[Any]:
    """First among the callbacks, so TensorBoard and the files see the `hp/` values it adds; it
    writes beside the TensorBoard folder (the experiment folder, or the staging one of a URI)."""
    if population is None:
        return []
    from autolearn.inspection.hparam_schedule import HparamRecorder

    return [HparamRecorder(population[0], tensorboard_dir(exp).parent)]


def distributed_callbacks(exp: Experiment) -> list[Any]:
    """What distributed trials need in the driver: their workers freed when Tune ends them."""
    if not exp.resources.distributed:
        return []
    from autolearn.execution.workers import placement_group_reaper

    return [placement_group_reaper()]


def storage_guard(exp: Experiment) -> list[Any]:
    """Local storage: the guard that stops the sweep cleanly when the disk fills (`disk_guard.py`)."""
    if is_uri(exp.storage):
        return []
    from autolearn.execution.disk_guard import StorageGuard

    return [StorageGuard(experiment_dir(exp))]


def stoppers(exp: Experiment) -> Any:
    """The epoch budget and time limit, and for a user's trainable the metric check
    (`metric_check.py`: the first report without the metric ends the sweep)."""
    from autolearn.execution.stopping import TrialStopper

    budget = TrialStopper(exp.max_epochs, exp.run.trial_timeout)
    trainable = exp.task.trainable
    if trainable is None:
        return budget
    from ray.tune.stopper import FunctionStopper

    from autolearn.execution.metric_check import MetricCheck

    name = trainable if isinstance(trainable, str) else f"{trainable.__module__}:{trainable.__qualname__}"
    return [FunctionStopper(budget), MetricCheck(exp.metric.name, f"task.trainable {name!r}")]


def file_loggers() -> list[Any]:
    """Ray's per-trial progress.csv/result.json, but not its TensorBoard logger: ours writes the runs
    and HParams sessions (Ray's default loggers are off: `internals.RAY_ENV`)."""
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    return [CSVLoggerCallback(), JsonLoggerCallback()]

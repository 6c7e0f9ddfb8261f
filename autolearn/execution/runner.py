"""Run an `Experiment` on Ray Tune: start Ray, fit the Tuner (`tuner.py`), collect a `SweepResult`.

Everything that can fail on the user's input (the data, the model, the search strategy) is done
before Ray starts; Ray Tune then does the scheduling, placement, retries and bookkeeping.
"""
from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autolearn.config.spec import Experiment, load_spec
from autolearn.errors import ConfigError, StorageFull, SweepError, SweepInterrupted
from autolearn.execution.tuner import experiment_dir, make_tuner, search_plan, tensorboard_dir
from autolearn.internals import ray_settings, result_grid_trials
from autolearn.results import SweepResult, pick_best, storage, trial_row
from autolearn.results.sweep import attach_schedules
from autolearn.values import is_uri

if TYPE_CHECKING:
    from ray.tune import Checkpoint, Result, ResultGrid, Tuner

    from autolearn.execution.cluster import Capacity
    from autolearn.training.loop import TrainJob

log = logging.getLogger(__name__)
SPEC_FILE = "spec.yaml"


def prepare_job(exp: Experiment) -> TrainJob:
    """Load the data once and build the model and optimizer once, so their errors come early."""
    import torch

    from autolearn.training.cv import plan_resampling
    from autolearn.training.data import load_dataset
    from autolearn.training.loop import Evaluator, TrainJob

    dataset, model, train = exp.builtin_sections()
    split = exp.task.split
    data = load_dataset(dataset.name, dict(dataset.params), split.test, split.validation, split.random_state)
    from autolearn.search.population import population_plan

    mutable, sync_every = population_plan(exp) or ((), None)  # pbt/pb2: what changes, when to checkpoint
    job = TrainJob(data=data, model=model, train=train, resampling=plan_resampling(exp.task, data),
                   mutable=mutable, sync_every=sync_every)
    try:
        Evaluator(job, {}, torch.device("cpu"))  # the model only: see Evaluator
    except ConfigError:
        raise
    except Exception as err:
        raise ConfigError("model", f"building the model failed: {type(err).__name__}: {err}") from err
    return job


def start(exp: Experiment, address: str | None, ray_output: bool = False) -> tuple[TrainJob | None, bool]:
    """Load the data while Ray starts: `(job, started_ray)`; `job` is None for a user's own trainable.

    Ray's start-up (seconds, mostly waiting on its processes) and the data set (importing
    scikit-learn, generating or reading the data) overlap on a second thread. `ray.init` stays on
    the main thread: Ray misbehaves when initialised from another one. Every bad input that can
    be found without reading the data was rejected when the spec loaded (CSV files are checked in
    full there), so Ray starts only for a sweep that can run; if a user's loader or model still
    fails, the Ray instance this call started is shut down before the error is raised.
    """
    from concurrent.futures import ThreadPoolExecutor

    if not exp.uses_builtin_trainable:
        return None, ensure_ray(address, ray_output)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="autolearn-data") as pool:
        loading = pool.submit(prepare_job, exp)
        started_ray = ensure_ray(address, ray_output)
        try:
            return loading.result(), started_ray
        except BaseException:
            if started_ray:
                import ray

                ray.shutdown()
            raise


def ensure_ray(address: str | None, ray_output: bool = False) -> bool:
    """Join `address`, or start a local instance; returns True when this call started Ray.

    Ray logs at WARNING unless `ray_output` (then INFO, Ray's default); the trials' own output
    reaches the driver either way (`log_to_driver`): it is the user's code speaking.
    """
    import ray

    if ray.is_initialized():
        return False
    level = logging.INFO if ray_output else logging.WARNING
    kwargs: dict[str, Any] = {"logging_level": level, "log_to_driver": True}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(include_dashboard=False, **kwargs)
    return True


def check_resources(exp: Experiment) -> Capacity:
    """Fail fast when no node, present or launchable, can hold one trial (or a distributed trial's
    workers); warn on unshared storage. Returns what the cluster can run."""
    from autolearn.execution.cluster import check_resources as check_capacity
    from autolearn.execution.cluster import cluster_capacity
    from autolearn.execution.workers import check_workers
    from autolearn.results.storage import warn_if_not_shared

    capacity = cluster_capacity()
    if exp.resources.distributed:
        check_workers(exp.resources, capacity)
    else:
        check_capacity(exp.resources.cpus_per_trial, exp.resources.gpus, capacity)
    warn_if_not_shared(exp.storage, capacity.multi_node)
    return capacity


def run_experiment(exp: Experiment, *, address: str | None = None, overwrite: bool = False,
                   callbacks: Sequence[Any] = (), ray_output: bool = False) -> SweepResult:
    """Run a sweep to the end and return (and save) its `SweepResult`.

    `address`: a Ray cluster to join (default: the running instance, or a new local one, shut
    down at the end). `overwrite`: reuse an existing experiment folder. `callbacks`: extra Ray
    Tune callbacks (the CLI's live progress); the library itself prints nothing. `ray_output`:
    let Ray's own banners, tables and INFO logs through (off: `internals.ray_settings`).
    """
    out = experiment_dir(exp)
    if storage.exists(out) and not overwrite:
        raise ConfigError("name", f"the experiment folder {out!r} already exists; pass --resume to continue "
                          "it or choose another --name")
    check_storage(exp)
    started = time.monotonic()
    from autolearn.training.auto import resolve_auto

    exp, resolved = resolve_auto(exp)  # batch_size: auto and space.lr auto, before anything starts
    plan = search_plan(exp)
    with ray_settings(ray_output), experiment_guard(exp):
        from autolearn.execution.fusion import fuses

        if fuses(exp):
            return fit_fused(exp, plan, address, callbacks, ray_output, started, extras=resolved)
        job, started_ray = start(exp, address, ray_output)
        try:
            capacity = check_resources(exp)
            if exp.resources.distributed:  # cap the trials at once to those whose workers fit together
                from autolearn.execution.workers import limit_concurrency

                exp = limit_concurrency(exp, capacity)
                plan = search_plan(exp)
            _save_spec(exp, out)
            return fit_and_collect(exp, lambda: make_tuner(exp, job, plan, callbacks, ray_output), job, started,
                                   extras=resolved)
        finally:
            if started_ray:
                import ray

                ray.shutdown()


def fit_fused(exp: Experiment, plan: Any, address: str | None, callbacks: Sequence[Any], ray_output: bool,
              started: float, earlier_wall_time: float = 0.0, extras: dict[str, Any] | None = None,
              resume: bool = False) -> SweepResult:
    """A fused sweep (`execution/fusion/`), new or resumed: in this process on one machine without
    GPUs (Ray is not started; the machine must hold one trial's CPUs, as a cluster's node must), or
    with its groups as Ray actors, placed like trials, on a cluster or a GPU."""
    from autolearn.execution.fusion import fused_sweep, in_process

    local = in_process(exp, address)
    job: TrainJob | None
    if local:
        check_local_resources(exp)
        job, started_ray = prepare_job(exp), False
    else:
        job, started_ray = start(exp, address, ray_output)
    try:
        if not local:
            check_resources(exp)
        if not resume:
            _save_spec(exp, experiment_dir(exp))
        return fit_and_collect(exp, lambda: fused_sweep(exp, job, plan, callbacks, resume=resume), job, started,
                               earlier_wall_time, extras)
    finally:
        if started_ray:
            import ray

            ray.shutdown()


def check_local_resources(exp: Experiment) -> None:
    """`check_resources` for a sweep that runs in this process: this machine is its only node."""
    from autolearn.execution.cluster import Capacity
    from autolearn.execution.cluster import check_resources as check_capacity
    from autolearn.execution.fusion import local_cpus

    check_capacity(exp.resources.cpus_per_trial, exp.resources.gpus, Capacity(nodes=[{"CPU": local_cpus(), "GPU": 0}]))


def check_storage(exp: Experiment) -> None:
    """Fail before Ray starts when the experiment folder could not be created (nothing is created here)."""
    if is_uri(exp.storage):
        return
    target = Path(experiment_dir(exp))
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError("storage", f"{exp.storage!r} cannot hold experiment folders: {str(existing)!r} "
                          "is a file, not a folder")
    try:  # a probe, not os.access: root passes that check even on a read-only file system
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise ConfigError("storage", f"{exp.storage!r} is not writable: cannot create files in "
                          f"{str(existing)!r} ({err.strerror}); choose another --storage") from None


def _save_spec(exp: Experiment, directory: str | Path) -> None:
    import yaml

    storage.write_text(str(directory), SPEC_FILE, yaml.safe_dump(exp.to_dict(), sort_keys=False))


def experiment_guard(exp: Experiment) -> AbstractContextManager[None]:
    """The experiment's lock: a lock file in a local folder (`lock.py`), a lock object at a URI
    (`uri_lock.py`)."""
    from autolearn.execution.lock import experiment_lock
    from autolearn.execution.uri_lock import uri_lock

    folder = experiment_dir(exp)
    return uri_lock(folder) if is_uri(folder) else experiment_lock(folder)


def fit_and_collect(exp: Experiment, tuner: Callable[[], Tuner], job: TrainJob | None, started: float,
                    earlier_wall_time: float = 0.0, extras: dict[str, Any] | None = None) -> SweepResult:
    """Fit, collect and save; after a stop signal, save what finished and raise `SweepInterrupted`
    (`StorageFull` when the storage guard stopped the sweep, or the results found no room).

    The signal handlers go in after Ray started: `ray.init` installs its own SIGTERM handler in
    the driver (it aborts the process), which ours must replace for the sweep to stop cleanly.
    """
    from autolearn.execution.disk_guard import guard_of, says_disk_full
    from autolearn.execution.metric_check import raise_if_stopped
    from autolearn.execution.signals import interrupt_guard

    with interrupt_guard() as stop:
        fitted = tuner()
        guard = guard_of(fitted)  # the storage guard, if any: `disk_guard.py`
        watch = getattr(fitted, "watch", None)  # a fused sweep checks for stops itself (no Tune controller)
        if watch is not None:
            watch(stop, guard)
        grid = fitted.fit()
        full = guard.reason if guard is not None else None
        try:
            raise_if_stopped(fitted)  # a user trainable without the metric: one ConfigError
            sweep = collect(exp, grid, job, earlier_wall_time + time.monotonic() - started,
                            stop.signame or ("storage full" if full else ""), extras)
        except OSError as err:
            if not says_disk_full(str(err)):
                raise
            raise StorageFull(f"the storage of {experiment_dir(exp)} is full: results.csv and summary.json could "
                              f"not be written ({err.strerror or err}); the finished trials are in their folders; "
                              f"free space, then: autolearn sweep --resume {experiment_dir(exp)}") from None
        finally:
            if guard is not None:
                guard.release()
    if stop:
        raise SweepInterrupted(stop.signum or 0, stop.signame, sweep.experiment_dir)
    if full:
        raise StorageFull(f"the storage of {sweep.experiment_dir} is full ({full}): the sweep stopped; finished "
                          "trials are kept and results.csv/summary.json say it is incomplete; free space, then: "
                          f"autolearn sweep --resume {sweep.experiment_dir}")
    return sweep


def collect(exp: Experiment, grid: ResultGrid, job: TrainJob | None, wall_time: float,
            interrupted_by: str = "", extras: dict[str, Any] | None = None) -> SweepResult:
    """Turn Ray's ResultGrid into a `SweepResult`, save it, then score the best model on the test
    split and save again: a failing evaluation (a missing or corrupt checkpoint, a storage error,
    out of memory) is recorded in `summary.json` and costs no result. An interrupted sweep
    (`interrupted_by` a signal's name) marks its unfinished trials and scores nothing. `extras` go
    to summary.json as they are (the values `auto` resolved to, the cross-validation summary)."""
    keys = list(exp.space)
    rows, by_id = [], {}
    failures = _num_failures(grid)
    ended = {t.trial_id for t in result_grid_trials(grid) if t.status in ("TERMINATED", "ERROR")}
    for result in (grid[i] for i in range(len(grid))):  # ResultGrid iterates, but declares no __iter__
        row = trial_row(result, exp.metric.name, exp.metric.mode, keys, exp.max_epochs, exp.run.trial_timeout)
        row.retries = failures.get(row.trial_id, 0)
        # Ray ends the running trials of an interrupted sweep as if they were done (TERMINATED):
        # short of their epoch budget they look "stopped"; they are interrupted, and resume goes on.
        if interrupted_by and (row.trial_id not in ended or row.status == "stopped"):
            row.status = "interrupted"
        rows.append(row)
        by_id[row.trial_id] = result
    rows.sort(key=lambda r: r.trial_id)
    attach_schedules(rows, tensorboard_dir(exp).parent)  # pbt/pb2: each trial's hyperparameters by epoch
    if not rows:
        raise SweepError("the sweep ran no trial")
    from autolearn.execution.front import apply_objectives, score_front

    several = apply_objectives(exp, rows)  # constraints (status infeasible) and the Pareto front
    best = pick_best(rows, exp.metric.mode)
    sweep = SweepResult(name=exp.name, experiment_dir=experiment_dir(exp), metric=exp.metric.name,
                        mode=exp.metric.mode, space_keys=keys, trials=rows, wall_time_s=wall_time,
                        best_trial_id=best.trial_id if best else None, strategy=exp.search.strategy,
                        complete=not interrupted_by, interrupted_by=interrupted_by, **several)
    sweep.extras.update(extras or {})
    if is_uri(sweep.experiment_dir):
        storage.publish(str(tensorboard_dir(exp)), sweep.experiment_dir, "tensorboard")
    sweep.save()  # first: whatever the test split does next, the results are kept
    if best is None:
        log.warning("no trial produced a usable %s; see results.csv for their status", exp.metric.name)
    elif not interrupted_by:
        _score_best(sweep, by_id[best.trial_id], exp, job)
        score_front(sweep, by_id, exp, job)
        sweep.save()
    return sweep


def _score_best(sweep: SweepResult, result: Result, exp: Experiment, job: TrainJob | None) -> None:
    """The best checkpoint's path and test scores; any failure is recorded, never raised: the
    sweep's results are worth more than the one number this adds."""
    try:
        checkpoint = _best_checkpoint(result, exp)
        if checkpoint is not None:
            sweep.best_checkpoint_path = checkpoint.path
            if job is not None and job.resampling is not None:  # cv/repeats: retrain on the training part
                from autolearn.training.cv import resampling_summary, retrain_and_test

                row = sweep.best
                epochs = (row.best_epoch or row.epochs) if row else job.train.epochs  # what the best needed
                sweep.test_scores = retrain_and_test(job, result.config or {}, epochs)
                sweep.extras["cv"] = resampling_summary(exp.task, job.resampling, epochs)
            elif job is not None:
                sweep.test_scores = _test_scores(job, result.config, checkpoint)
    except Exception as err:  # whatever it was, it is written down, not lost
        sweep.test_error = f"{type(err).__name__}: {err}".splitlines()[0]
        log.error("scoring the best trial on the test split failed (%s); the results are saved, "
                  "summary.json records the failure", sweep.test_error)


def _num_failures(grid: ResultGrid) -> dict[str, int]:
    """Trial id → how often Ray restarted it after a failure (kept in the experiment state).

    Ray counts failures; a trial that ended in error failed once more than it was restarted.
    """
    return {t.trial_id: max(int(t.num_failures) - (t.status == "ERROR"), 0) for t in result_grid_trials(grid)}


def _best_checkpoint(result: Result, exp: Experiment) -> Checkpoint | None:
    try:
        return result.get_best_checkpoint(exp.metric.name, exp.metric.mode) or result.checkpoint
    except (RuntimeError, ValueError, KeyError):
        return result.checkpoint


def _test_scores(job: TrainJob, config: dict[str, Any] | None, checkpoint: Checkpoint) -> dict[str, float]:
    from autolearn.training.loop import evaluate_on_test
    from autolearn.training.trainable import load_checkpoint_state

    with checkpoint.as_directory() as directory:
        state = load_checkpoint_state(directory)
    return evaluate_on_test(job, config or {}, state)


def run(spec: Experiment | str | Path, **kwargs: Any) -> SweepResult:
    """One call from Python: a spec file path or an `Experiment` in, a `SweepResult` out.

    Keyword arguments as `run_experiment`: `address`, `overwrite`, `callbacks`, `ray_output`.
    """
    exp = spec if isinstance(spec, Experiment) else load_spec(spec)
    return run_experiment(exp, **kwargs)

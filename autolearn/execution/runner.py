"""Run an `Experiment` on Ray Tune: build the Tuner, fit (or resume), collect a `SweepResult`.

Everything that can fail on the user's input (the data, the model, the search strategy) is done
before Ray starts; Ray Tune then does the scheduling, placement, retries and bookkeeping.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autolearn.config.spec import Experiment, load_spec
from autolearn.errors import ConfigError, SweepError
from autolearn.results import SweepResult, pick_best, storage, trial_row
from autolearn.search.strategies import SearchPlan, SearchRequest, get_strategy

log = logging.getLogger(__name__)
SPEC_FILE = "spec.yaml"


def experiment_dir(exp: Experiment) -> str:
    """`storage/name`, absolute for local paths (Ray needs that), untouched for URIs."""
    if "://" in exp.storage:
        return exp.storage.rstrip("/") + "/" + exp.name
    return str(Path(exp.storage).expanduser().resolve() / exp.name)


def _storage_path(exp: Experiment) -> str:
    return exp.storage if "://" in exp.storage else str(Path(exp.storage).expanduser().resolve())


def prepare_job(exp: Experiment) -> Any:
    """Load the data once and build the model and optimizer once, so their errors come early."""
    import torch

    from autolearn.training.data import load_dataset
    from autolearn.training.loop import Evaluator, TrainJob

    split = exp.task.split
    data = load_dataset(exp.task.dataset.name, dict(exp.task.dataset.params), split.test,
                        split.validation, split.random_state)
    job = TrainJob(data=data, model=exp.model, train=exp.train)
    try:
        Evaluator(job, {}, torch.device("cpu"))  # the model only: see Evaluator
    except ConfigError:
        raise
    except Exception as err:
        raise ConfigError("model", f"building the model failed: {type(err).__name__}: {err}") from err
    return job


def start(exp: Experiment, address: str | None) -> tuple[Any, bool]:
    """Load the data while Ray starts: `(job, started_ray)`.

    Ray's start-up (seconds, mostly waiting on its processes) and the data set (importing
    scikit-learn, generating or reading the data) overlap on a second thread. `ray.init` stays on
    the main thread: Ray misbehaves when initialised from another one. Every bad input that can
    be found without reading the data was rejected when the spec loaded (CSV files are checked in
    full there), so Ray starts only for a sweep that can run; if a user's loader or model still
    fails, the Ray instance this call started is shut down before the error is raised.
    """
    from concurrent.futures import ThreadPoolExecutor

    if not exp.uses_builtin_trainable:
        return None, ensure_ray(address)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="autolearn-data") as pool:
        loading = pool.submit(prepare_job, exp)
        started_ray = ensure_ray(address)
        try:
            return loading.result(), started_ray
        except BaseException:
            if started_ray:
                import ray

                ray.shutdown()
            raise


def search_plan(exp: Experiment) -> SearchPlan:
    return get_strategy(exp.search.strategy).build(SearchRequest.from_experiment(exp))


def ensure_ray(address: str | None) -> bool:
    """Join `address`, or start a quiet local instance; returns True when this call started Ray."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    # Checkpointing every epoch is the point (resume, best model), not a mistake to warn about.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": True}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(include_dashboard=False, **kwargs)
    return True


def check_resources(exp: Experiment) -> None:
    """Fail fast when no node, present or launchable, can hold one trial; warn on unshared storage."""
    from autolearn.execution.cluster import check_resources as check_capacity
    from autolearn.execution.cluster import cluster_capacity
    from autolearn.results.storage import warn_if_not_shared

    capacity = cluster_capacity()
    check_capacity(exp.resources.cpus_per_trial, exp.resources.gpus_per_trial, capacity)
    warn_if_not_shared(exp.storage, capacity.multi_node)


def tensorboard_dir(exp: Experiment) -> Path:
    """The experiment's `tensorboard/`, or a local staging folder uploaded there after a URI sweep."""
    if "://" not in exp.storage:
        return Path(experiment_dir(exp)) / "tensorboard"
    return Path(tempfile.gettempdir()) / "autolearn-staging" / exp.name / "tensorboard"


def build_trainable(exp: Experiment, job: Any) -> Any:
    from ray import tune

    from autolearn.config.plugins import ship_by_value

    # Before anything is pickled (with_parameters puts the job in the object store at once).
    for user_code in (exp.task.trainable, getattr(exp.model, "name", None)):
        if callable(user_code):
            ship_by_value(user_code)

    if exp.uses_builtin_trainable:
        from autolearn.training.trainable import train_trial

        fn: Callable[..., Any] = tune.with_parameters(train_trial, job=job)
    else:
        from autolearn.config.plugins import import_object

        fn = exp.task.trainable if callable(exp.task.trainable) else import_object(exp.task.trainable, "task.trainable")
    resources = {"cpu": exp.resources.cpus_per_trial, "gpu": exp.resources.gpus_per_trial}
    return tune.with_resources(fn, resources)


def make_tuner(exp: Experiment, job: Any, plan: SearchPlan, callbacks: Sequence[Any] = ()) -> Any:
    from ray import tune

    from autolearn.execution.stopping import TrialStopper
    from autolearn.inspection.failures import FailureReporter
    from autolearn.inspection.tensorboard import TensorBoardCallback
    from autolearn.search.schedulers import make_scheduler

    run_config = tune.RunConfig(
        name=exp.name, storage_path=_storage_path(exp), verbose=0,
        callbacks=[TensorBoardCallback(tensorboard_dir(exp), exp.space, exp.metric.name,
                                       exp.metric.mode, exp.max_epochs, exp.run.trial_timeout), *_file_loggers(),
                   FailureReporter(exp.run.max_failures), *callbacks],
        checkpoint_config=tune.CheckpointConfig(num_to_keep=1, checkpoint_score_attribute=exp.metric.name,
                                                checkpoint_score_order=exp.metric.mode),
        failure_config=tune.FailureConfig(max_failures=exp.run.max_failures),
        stop=TrialStopper(exp.max_epochs, exp.run.trial_timeout),
    )
    tune_config = tune.TuneConfig(
        metric=exp.metric.name, mode=exp.metric.mode, search_alg=plan.search_alg,
        scheduler=make_scheduler(exp.scheduler.name, exp.scheduler.options, exp.max_epochs),
        num_samples=plan.num_samples, reuse_actors=True,
    )
    param_space = {**dict(exp.task.params), **plan.param_space}
    return tune.Tuner(build_trainable(exp, job), param_space=param_space, tune_config=tune_config,
                      run_config=run_config)


def _file_loggers() -> list[Any]:
    """Ray's per-trial progress.csv/result.json, but not its TensorBoard logger: ours writes the runs
    and HParams sessions, and a second copy in every trial folder would list each trial twice."""
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    return [CSVLoggerCallback(), JsonLoggerCallback()]


def run_experiment(exp: Experiment, *, address: str | None = None, overwrite: bool = False,
                   callbacks: Sequence[Any] = ()) -> SweepResult:
    """Run a sweep to the end and return (and save) its `SweepResult`.

    `callbacks` are extra Ray Tune callbacks (the CLI's live progress): the library prints nothing.
    """
    out = experiment_dir(exp)
    if storage.exists(out) and not overwrite:
        raise ConfigError("name", f"the experiment folder {out!r} already exists; pass --resume to continue "
                          "it or choose another --name")
    check_storage(exp)
    started = time.monotonic()
    plan = search_plan(exp)
    job, started_ray = start(exp, address)
    try:
        check_resources(exp)
        _save_spec(exp, out)
        grid = make_tuner(exp, job, plan, callbacks).fit()
        result = collect(exp, grid, job, time.monotonic() - started)
    finally:
        if started_ray:
            import ray

            ray.shutdown()
    return result


def check_storage(exp: Experiment) -> None:
    """Fail before Ray starts when the experiment folder could not be created (nothing is created here)."""
    if "://" in exp.storage:
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


def collect(exp: Experiment, grid: Any, job: Any, wall_time: float) -> SweepResult:
    """Turn Ray's ResultGrid into a `SweepResult`, score the best model on the test split, save."""
    keys = list(exp.space)
    rows, by_id = [], {}
    failures = _num_failures(grid)
    for result in grid:
        row = trial_row(result, exp.metric.name, exp.metric.mode, keys, exp.max_epochs, exp.run.trial_timeout)
        row.retries = failures.get(row.trial_id, 0)
        rows.append(row)
        by_id[row.trial_id] = result
    rows.sort(key=lambda r: r.trial_id)
    if not rows:
        raise SweepError("the sweep ran no trial")
    best = pick_best(rows, exp.metric.mode)
    sweep = SweepResult(name=exp.name, experiment_dir=experiment_dir(exp), metric=exp.metric.name,
                        mode=exp.metric.mode, space_keys=keys, trials=rows, wall_time_s=wall_time,
                        best_trial_id=best.trial_id if best else None, strategy=exp.search.strategy)
    if best is not None:
        checkpoint = _best_checkpoint(by_id[best.trial_id], exp)
        if checkpoint is not None:
            sweep.best_checkpoint_path = checkpoint.path
            if job is not None:
                sweep.test_scores = _test_scores(job, by_id[best.trial_id].config, checkpoint)
    else:
        log.warning("no trial produced a usable %s; see results.csv for their status", exp.metric.name)
    if storage.is_uri(sweep.experiment_dir):
        storage.publish(str(tensorboard_dir(exp)), sweep.experiment_dir, "tensorboard")
    sweep.save()
    return sweep


def _num_failures(grid: Any) -> dict[str, int]:
    """Trial id → how often Ray restarted it after a failure (kept in the experiment state).

    Ray counts failures; a trial that ended in error failed once more than it was restarted.
    """
    analysis = getattr(grid, "_experiment_analysis", None)
    return {t.trial_id: max(int(t.num_failures) - (t.status == "ERROR"), 0)
            for t in getattr(analysis, "trials", None) or []}


def _best_checkpoint(result: Any, exp: Experiment) -> Any:
    try:
        return result.get_best_checkpoint(exp.metric.name, exp.metric.mode) or result.checkpoint
    except (RuntimeError, ValueError, KeyError):
        return result.checkpoint


def _test_scores(job: Any, config: dict, checkpoint: Any) -> dict[str, float]:
    from autolearn.training.loop import evaluate_on_test
    from autolearn.training.trainable import load_checkpoint_state

    with checkpoint.as_directory() as directory:
        state = load_checkpoint_state(directory)
    return evaluate_on_test(job, config, state)


def run(spec: Experiment | str | Path, **kwargs: Any) -> SweepResult:
    """One call from Python: a spec file path or an `Experiment` in, a `SweepResult` out."""
    exp = spec if isinstance(spec, Experiment) else load_spec(spec)
    return run_experiment(exp, **kwargs)

"""Every private part of Ray, hyperopt and bayes_opt that autolearn touches, in one place.

A library upgrade that moves one of these breaks here, and `tests/unit/test_internals_ray.py`
and `test_internals_search.py` have one test per access that fails loudly naming it. Nothing
else in the package may read a private attribute of these libraries. The environment variables
autolearn sets are here too.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# --- Ray (execution) ---------------------------------------------------------------------------
# Each function reads one private part; its docstring says what, why no public API does it, and
# what to do when a Ray upgrade moves it. `tests/unit/test_internals_ray.py` checks each one.

# The resource every head node has, and no other (`ray._common.constants.HEAD_NODE_RESOURCE_NAME`,
# a private module): how a task is pinned to the head. If Ray renames it, `ray.nodes()` of a live
# cluster shows the head's resources: take the new name from there.
HEAD_NODE_RESOURCE = "node:__internal_head__"

# The autoscaler's monitor scripts (v1, v2), as they appear in the monitor process's command line,
# and its two options that we read: the GCS it serves and the cluster-launcher config it scales
# with. Ray publishes neither the node types nor the config path (v1 keeps them in that process
# only). If the files move, search the installed Ray for `--autoscaling-config` and use its path.
MONITOR_SCRIPTS = ("autoscaler/_private/monitor.py", "autoscaler/v2/monitor.py")
MONITOR_GCS_OPTION = "--gcs-address"
MONITOR_CONFIG_OPTION = "--autoscaling-config"


def result_grid_trials(grid: Any) -> list[Any]:
    """The `Trial` objects behind a `ResultGrid` (`grid._experiment_analysis.trials`).

    Only a `Trial` knows `num_failures` (how often Ray restarted it); a public `Result` does not.
    If it breaks, `ray.tune.ExperimentAnalysis(grid.experiment_path, storage_filesystem=grid.filesystem)`
    reads the same trials back from the saved experiment state (public, but reads the folder again).
    An empty list (no retry counts) rather than a failed sweep when the attribute is gone.
    """
    analysis = getattr(grid, "_experiment_analysis", None)
    if analysis is None:
        logging.getLogger(__name__).warning("this Ray version's ResultGrid has no _experiment_analysis: "
                                            "retry counts are not reported")
        return []
    return list(analysis.trials)


def tuner_run_config(tuner: Any) -> Any:
    """The live `RunConfig` of a `Tuner` (`tuner._local_tuner.get_run_config()`), or None over Ray client.

    `Tuner.restore` takes no callbacks, so the CLI's live progress is added to the restored run
    config before `fit()`. Over Ray client the tuner lives in a remote actor (`_remote_tuner`) and
    there is no local config to change. If it breaks, look for the attribute `Tuner.__init__`
    stores its `TunerInternal` in, or for a `callbacks` argument that `Tuner.restore` may gain.
    """
    local = getattr(tuner, "_local_tuner", None)
    return None if local is None else local.get_run_config()


def tune_controller_calling_setup() -> Any:
    """The `TuneController` that is calling a `Callback.setup()` right now, found on the call stack
    (`TuneController.setup_experiments` -> `CallbackList.setup` -> `callback.setup`), or None.

    Ray hands a callback the trials but never the controller, and only the controller can save the
    experiment state on demand (`execution/snapshots.py` saves it when a trial ends). If it breaks
    (None, and a warning from that module), look for where the installed Ray calls the callbacks'
    `setup` and what object that frame's `self` is.
    """
    import sys
    from types import FrameType

    from ray.tune.execution.tune_controller import TuneController

    frame: FrameType | None = sys._getframe(1)
    for _ in range(12):
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        if isinstance(owner, TuneController):
            return owner
        frame = frame.f_back
    return None


def save_experiment_state(controller: Any) -> None:
    """Save the experiment state now, unthrottled, and wait until it is at the storage
    (`TuneController.checkpoint(force=True, wait=True)`: the class lives in a private module).

    Tune saves it at most every 10 s or more (`TUNE_GLOBAL_CHECKPOINT_S`, "auto"); a trial that
    finished after the last save is run again on resume. If `checkpoint` loses its `force` or
    `wait` argument, look for what `TuneController.step` calls to save the state.
    """
    controller.checkpoint(force=True, wait=True)


def gcs_cluster_config() -> Any:
    """The cluster config a v2 (KubeRay) autoscaler published in the GCS, or None.

    `ray._private.state.state.get_cluster_config()`: a protobuf `ClusterConfig` whose
    `node_group_configs` (name, resources, max_count) are the node types it may launch. Ray's
    public `ray.autoscaler.sdk` requests resources but does not list node types. If it breaks,
    find `get_cluster_config` (or `GCS_AUTOSCALER_CLUSTER_CONFIG_KEY`) in the installed Ray.
    """
    from ray._private.state import state

    return state.get_cluster_config()


def autoscaling_status() -> dict[str, Any]:
    """The autoscaler's last status report from the GCS key-value store (empty when none).

    `ray.experimental.internal_kv._internal_kv_get("__autoscaling_status")`: the v1 monitor's
    report (`autoscaler_report.node_type_mapping`), which is what `ray status` prints; no public
    API returns it as data. If it breaks, read `ray._private.ray_constants.DEBUG_AUTOSCALING_STATUS`
    and how `ray status` (`ray/scripts/scripts.py`) fetches it.
    """
    from ray.experimental.internal_kv import _internal_kv_get

    raw = _internal_kv_get(AUTOSCALING_STATUS_KEY)
    return json.loads(raw) if raw else {}


AUTOSCALING_STATUS_KEY = "__autoscaling_status"

# How Ray Tune heads each failure in a trial's `error.txt` (`Trial.handle_error` in
# `ray/tune/experiment/trial.py`); the CLI prints the last one without Ray's frames. If the format
# changes, the CLI prints the whole file: update the pattern from that function.
TRIAL_ERROR_FILE = "error.txt"
FAILURE_HEADER = r"^Failure # \d+ \(occurred at [^)]*\)$"


@dataclass(frozen=True)
class EnvVar:
    """An environment variable autolearn sets for Ray Tune, and why."""

    name: str
    value: str
    read_in: str              # the Ray module that reads it (where to look when it stops working)
    why: str
    force: bool = False       # True: set even over the user's own value (a correctness matter)
    quiet_only: bool = False  # only while Ray's own output is off (no `--verbose`)


# Every environment variable the package sets. Read by Ray Tune in the driver when a Tuner is
# built and fitted, so they are set around the whole sweep (`ray_settings`) and restored after.
RAY_ENV = (
    EnvVar("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1", "ray.tune.utils.callback",
           "our TensorBoard callback writes the runs and HParams sessions; Ray's default TensorBoard "
           "logger would list each trial twice", force=True),
    EnvVar("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0", "ray.tune.execution.experiment_state",
           "checkpointing every epoch is the point (resume, best model), not a mistake to warn about"),
    EnvVar("TUNE_DISABLE_SIGINT_HANDLER", "1", "ray.tune.tune",
           "Tune's own SIGINT handler ends fit() as if the sweep had finished; execution/signals.py "
           "catches SIGINT with SIGTERM and SIGHUP and stops Tune through TUNE_STOP_SIGNAL", force=True),
    EnvVar("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1", "ray.tune.execution.tune_controller",
           "Ray's check raises inside its event loop (a page of traceback, the state unsaved); "
           "execution/metric_check.py ends the sweep at the first report without the metric instead, "
           "in one line naming what the trainable did report", force=True),
    EnvVar("RAY_AIR_NEW_OUTPUT", "0", "ray.tune.experimental.output",
           "Ray's new output engine prints its configuration box and result paths even at verbose=0; "
           "the legacy engine at verbose=0 prints nothing", quiet_only=True),
)

# Distributed trials (training/ddp_trainable.py). Set in the trial's process, where Ray Train's
# controller reads it (ray.train.v2._internal.constants): a trial whose workers wait for room
# (other trials, the autoscaler) waits, instead of failing after Ray's default of 60 s.
TRAIN_START_TIMEOUT_ENV = ("RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S", "1800")
# Set in each Ray Train worker of a distributed trial: the Tune trial's folder, which Ray Train's
# own context no longer gives its workers (read by autolearn.testing.faults).
TRIAL_DIR_ENV = "AUTOLEARN_TRIAL_DIR"



def let_train_workers_wait() -> None:
    """In a distributed trial's process, before its trainer starts: `TRAIN_START_TIMEOUT_ENV`
    (the user's own value wins)."""
    os.environ.setdefault(*TRAIN_START_TIMEOUT_ENV)


# Ray Train V2 logs every report of every rank at INFO ("Reporting training result ...") on a
# logger named by the file's path, not under "ray.train", so `logging.getLogger("ray.train")`
# does not reach it.
TRAIN_REPORT_LOGGER_MODULE = "ray.train.v2._internal.execution.context"


def quiet_train_reports() -> None:
    """In a Ray Train worker: that per-report INFO line off (warnings stay)."""
    import importlib

    module = importlib.import_module(TRAIN_REPORT_LOGGER_MODULE)
    logger = getattr(module, "logger", None)
    if isinstance(logger, logging.Logger):
        logger.setLevel(max(logging.WARNING, logger.level))


def set_trial_dir(path: str) -> None:
    """In a Ray Train worker: `TRIAL_DIR_ENV`, the Tune trial folder its driver passed on."""
    os.environ[TRIAL_DIR_ENV] = path


def torch_trainer_class() -> type:
    """Ray Train's `TorchTrainer`, less the `PlacementGroupCleanerCallback` of its default callbacks.

    That callback starts a detached actor per run that polls the State API, which needs Ray's
    dashboard: without one (Ray's minimal install, `ray.init(include_dashboard=False)`) it logs
    a warning every second and never ends. autolearn's sweep driver frees a stopped trial's
    placement group itself (`execution/workers.py`), so the cleaner is not started. Overrides
    `DataParallelTrainer._create_default_callbacks` (ray/train/v2/api/data_parallel_trainer.py).
    """
    from ray.train.torch import TorchTrainer
    from ray.train.v2._internal.callbacks.placement_group_callback import PlacementGroupCleanerCallback

    class Trainer(TorchTrainer):
        def _create_default_callbacks(self) -> list[Any]:
            callbacks = super()._create_default_callbacks()  # type: ignore[misc]  # V2's method; mypy sees V1
            return [c for c in callbacks if not isinstance(c, PlacementGroupCleanerCallback)]

    return Trainer


def remove_placement_group_by_id(hex_id: str) -> bool:
    """Remove a placement group known by its hex id, unless it is gone already; True if removed."""
    import ray
    from ray.util.placement_group import PlacementGroup, placement_group_table, remove_placement_group

    group = PlacementGroup(ray.PlacementGroupID(bytes.fromhex(hex_id)))
    if placement_group_table(group).get("state") in (None, "REMOVED"):
        return False
    remove_placement_group(group)
    return True


# The signal Tune's fit() always handles as "save the experiment state and return" (tune.py,
# `_setup_signal_catching`); execution/signals.py raises it to stop a sweep cleanly.
TUNE_STOP_SIGNAL = "SIGUSR1"

# Ray loggers lowered while Ray's own output is off: logger name -> level.
RAY_QUIET_LOGGERS = {
    # "Token authentication is enabled for this Ray cluster..." at every local `ray.init` (Ray
    # enables token auth by default; nothing for the user to do). Errors still show.
    "ray._private.authentication.authentication_token_setup": logging.ERROR,
    # Tune's INFO lines ("Wrote the latest version of all result files...") when the caller
    # started Ray at INFO; warnings and errors still show.
    "ray.tune": logging.WARNING,
}


def ray_env(ray_output: bool = False) -> dict[str, str]:
    """The variables to set now: the user's own value wins unless the entry is `force`."""
    return {v.name: v.value for v in RAY_ENV
            if not (v.quiet_only and ray_output) and (v.force or v.name not in os.environ)}


def show_gpus_to_this_process(gpu_ids: str) -> None:
    """Make `gpu_ids` (Ray's comma-separated GPU ids) the CUDA devices of this process.

    Ray sets `CUDA_VISIBLE_DEVICES` only for a task or actor that reserved GPUs itself; a fused
    worker reserves none (its member trials hold the group's share), so it takes its members'
    ids. Must run before torch initialises CUDA in the process.
    """
    os.environ["CUDA_VISIBLE_DEVICES"] = gpu_ids


@contextmanager
def ray_settings(ray_output: bool = False) -> Iterator[None]:
    """Ray's environment and log levels for one sweep, restored afterwards.

    `ray_output=False` (the default): Ray's own banners, boxes and INFO lines stay away from the
    user; errors, warnings about the sweep and autolearn's own progress remain.
    """
    saved_env = {name: os.environ.get(name) for name in ray_env(ray_output)}
    loggers = {} if ray_output else RAY_QUIET_LOGGERS
    saved_levels = {name: logging.getLogger(name).level for name in loggers}
    os.environ.update(ray_env(ray_output))
    for name, level in loggers.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(level, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)

# --- hyperopt and bayes_opt (search) -------------------------------------------------------------
# hyperopt's TPE runs through Ray's `HyperOptSearch`, which turns a trial's result into
# hyperopt's {"loss", "status"} in the private `_to_hyperopt_result`; the GP's acquisition
# function is handed bayes_opt's fitted regressor, which `BayesianOptimization` keeps as `_gp`.


class HyperOptResultHook:
    """Mixin for Ray's `HyperOptSearch` (put it first in the bases): routes the private
    `_to_hyperopt_result` to the public `hyperopt_result`, which subclasses write.

    autolearn needs the hook to score failed and NaN trials as hyperopt failures (Ray would pass
    the NaN on); it is Ray's private method, so it is overridden here and nowhere else.
    """

    def _to_hyperopt_result(self, result: dict[str, Any]) -> dict[str, Any]:
        return self.hyperopt_result(result)

    def hyperopt_result(self, result: dict[str, Any]) -> dict[str, Any]:
        """A finished trial's result → hyperopt's `{"loss": .., "status": "ok"}` or `{"status": "fail"}`."""
        raise NotImplementedError


def hyperopt_complete_points(searcher: Any, labels: Any) -> None:
    """Give the warm-start trials of Ray's `HyperOptSearch` every label of a nested space.

    hyperopt's `generate_trials_to_calculate` (which Ray calls for `points_to_evaluate`) records
    only the labels a point gives; its TPE (0.3) then looks up every label of the space in each
    trial's `misc.idxs` and fails on a conditional one the point left out. Trials hyperopt makes
    itself list such labels with no values, so the points get the same. Ray keeps the trials in the
    private `_hpopt_trials`, hyperopt the documents in the private `_dynamic_trials`: both here.
    """
    trials = getattr(searcher, "_hpopt_trials", None)
    if trials is None:
        return
    for doc in trials._dynamic_trials:
        for key in ("idxs", "vals"):
            for label in labels:
                doc["misc"][key].setdefault(label, [])
    trials.refresh()


def bayes_opt_gp(optimizer: Any) -> Any:
    """The Gaussian-process regressor of a `bayes_opt.BayesianOptimization` (private `_gp`), for
    `acquisition_function.suggest(gp=...)`, which takes it as an argument but has no public getter."""
    try:
        return optimizer._gp
    except AttributeError:
        import bayes_opt

        raise AttributeError(f"bayes_opt {bayes_opt.__version__}: BayesianOptimization has no `_gp` any more; "
                             "update autolearn.internals.bayes_opt_gp") from None


def training_result(checkpoint: Any, metrics: dict[str, Any]) -> Any:
    """Ray's `_TrainingResult` (a checkpoint with the metrics it came with): what `Trial.on_checkpoint`
    takes. A fused sweep's driver registers its members' checkpoints with it, as Tune's controller
    does for a trainable's; if it moves, look in `ray.train._internal.session`."""
    from ray.train._internal.session import _TrainingResult

    return _TrainingResult(checkpoint=checkpoint, metrics=metrics)


def storage_context_class() -> type:
    """Ray's `StorageContext` (where a trial's files and checkpoints go): a fused sweep's driver
    subclasses it (`execution/fusion/staging.py`) to write its trials' files without a Ray session.
    If it moves, look for the class `Trial.storage` is an instance of."""
    from ray.train._internal.storage import StorageContext

    return StorageContext


def forget_ended_trial(callbacks: Any, trial: Any) -> None:
    """Drop what Ray's file loggers keep per trial after it ended (`JsonLoggerCallback._trial_configs`,
    `CSVLoggerCallback._trial_continue`: they hold every `Trial` to the end of the sweep). A fused
    sweep's driver frees its ended trials (`execution/fusion/ledger.py`); these references would
    keep them. Missing attributes (another Ray version) are skipped: memory, not correctness."""
    for callback in callbacks:
        for name in ("_trial_configs", "_trial_continue"):
            held = getattr(callback, name, None)
            if isinstance(held, dict):
                held.pop(trial, None)

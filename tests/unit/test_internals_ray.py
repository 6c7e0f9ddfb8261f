"""One test per private part of Ray that `autolearn.internals` reads: a Ray upgrade that moves one
fails here, naming the part and the Ray version, instead of deep inside a sweep.

No Ray instance is started: the classes are inspected, or the objects built from their parts
(a `Tuner` and its restore need only a folder).
"""
from __future__ import annotations

import importlib
import inspect
import logging
import os
import re
from pathlib import Path

import pytest

from autolearn import internals


def _ray_version() -> str:
    import ray

    return ray.__version__


def loud(ok: object, part: str, where: str) -> None:
    """Fail with the part, where autolearn reads it and the Ray version."""
    if not ok:
        pytest.fail(f"Ray {_ray_version()} moved {part} (read by autolearn.internals.{where}); "
                    f"see that function's docstring for what to do", pytrace=False)


def test_result_grid_keeps_the_trials_of_its_experiment_analysis():
    from ray.tune import ResultGrid
    from ray.tune.experiment import Trial

    class Analysis:  # what ResultGrid reads of an ExperimentAnalysis at construction
        trials: list = []

    analysis = Analysis()
    grid = ResultGrid(analysis)
    loud(getattr(grid, "_experiment_analysis", None) is analysis, "ResultGrid._experiment_analysis",
         "result_grid_trials")
    analysis.trials = ["a trial"]
    assert internals.result_grid_trials(grid) == ["a trial"]
    loud(isinstance(inspect.getattr_static(Trial, "num_failures"), property), "Trial.num_failures",
         "result_grid_trials")


def test_result_grid_without_the_attribute_gives_no_trials_and_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="autolearn.internals"):
        assert internals.result_grid_trials(object()) == []
    assert "_experiment_analysis" in caplog.text


def test_restored_tuner_exposes_its_run_config(tmp_path):
    from ray import tune

    def trainable(config):
        pass

    tuner = tune.Tuner(trainable, run_config=tune.RunConfig(storage_path=str(tmp_path), name="x", verbose=0))
    loud(internals.tuner_run_config(tuner) is not None, "Tuner._local_tuner.get_run_config()", "tuner_run_config")
    restored = tune.Tuner.restore(str(tmp_path / "x"), trainable)
    run_config = internals.tuner_run_config(restored)
    loud(isinstance(run_config, tune.RunConfig), "Tuner._local_tuner.get_run_config() after restore",
         "tuner_run_config")
    # The object returned is the one fit() reads: a callback added to it reaches the run.
    loud(run_config is getattr(restored._local_tuner, "_run_config", None), "TunerInternal._run_config",
         "tuner_run_config")
    assert run_config.verbose == 0 and run_config.name == "x"


def test_gcs_cluster_config_reader_and_its_protobuf():
    from ray._private.state import GlobalState, state
    from ray.core.generated import autoscaler_pb2

    from autolearn.execution.cluster import node_groups_of

    loud(isinstance(state, GlobalState) and callable(getattr(state, "get_cluster_config", None)),
         "ray._private.state.state.get_cluster_config", "gcs_cluster_config")
    config = autoscaler_pb2.ClusterConfig(node_group_configs=[
        autoscaler_pb2.NodeGroupConfig(name="gpu", resources={"GPU": 2, "CPU": 8}, max_count=3),
        autoscaler_pb2.NodeGroupConfig(name="cpu", resources={"CPU": 4}, max_count=-1)])
    groups = node_groups_of(config)
    assert groups is not None and [(g.name, dict(g.resources), g.max_workers) for g in groups] == [
        ("gpu", {"GPU": 2, "CPU": 8}, 3), ("cpu", {"CPU": 4}, 10**9)]
    assert node_groups_of(autoscaler_pb2.ClusterConfig()) is None and node_groups_of(None) is None


def test_autoscaling_status_key_and_reader():
    from ray._private import ray_constants
    from ray.autoscaler._private import monitor
    from ray.experimental import internal_kv

    loud(getattr(ray_constants, "DEBUG_AUTOSCALING_STATUS", None) == internals.AUTOSCALING_STATUS_KEY,
         "ray_constants.DEBUG_AUTOSCALING_STATUS", "autoscaling_status")
    reader = getattr(internal_kv, "_internal_kv_get", None)
    loud(reader is not None and "key" in inspect.signature(reader).parameters,
         "ray.experimental.internal_kv._internal_kv_get(key)", "autoscaling_status")
    loud("autoscaler_report" in inspect.getsource(monitor), "the monitor's autoscaler_report", "autoscaling_status")
    autoscaler = importlib.import_module("ray.autoscaler._private.autoscaler")
    loud("node_type_mapping" in inspect.getsource(autoscaler), "the autoscaler report's node_type_mapping",
         "autoscaling_status")


def test_head_node_resource_name():
    from ray._common import constants

    loud(getattr(constants, "HEAD_NODE_RESOURCE_NAME", None) == internals.HEAD_NODE_RESOURCE,
         "ray._common.constants.HEAD_NODE_RESOURCE_NAME", "HEAD_NODE_RESOURCE")


@pytest.mark.parametrize("script", internals.MONITOR_SCRIPTS)
def test_monitor_scripts_and_their_options(script):
    import ray

    file = Path(ray.__file__).parent / script
    loud(file.is_file(), f"the autoscaler monitor script {script}", "MONITOR_SCRIPTS")
    source = file.read_text()
    for option in (internals.MONITOR_GCS_OPTION, internals.MONITOR_CONFIG_OPTION):
        loud(f'"{option}"' in source, f"the monitor option {option} of {script}", "MONITOR_*_OPTION")


def test_trial_error_file_and_failure_header():
    from ray.air import constants
    from ray.tune.experiment import Trial

    loud(getattr(constants, "EXPR_ERROR_FILE", None) == internals.TRIAL_ERROR_FILE, "EXPR_ERROR_FILE",
         "TRIAL_ERROR_FILE")
    template = "Failure # {} (occurred at {})"
    loud(template in inspect.getsource(Trial.handle_error), "the error.txt failure header", "FAILURE_HEADER")
    assert re.fullmatch(internals.FAILURE_HEADER, template.format(3, "2026-11-27_05-00-00"))


@pytest.mark.parametrize("var", internals.RAY_ENV, ids=lambda v: v.name)
def test_every_environment_variable_is_read_where_the_table_says(var):
    source = inspect.getsource(importlib.import_module(var.read_in))
    loud(f'"{var.name}"' in source, f"the environment variable {var.name}", f"RAY_ENV ({var.read_in})")


@pytest.mark.parametrize("name", sorted(internals.RAY_QUIET_LOGGERS))
def test_every_quieted_logger_is_a_ray_module(name):
    module = importlib.import_module(name)  # a package's logger covers its modules' loggers
    logger = getattr(module, "logger", None)
    if isinstance(logger, logging.Logger):
        loud(logger.name == name, f"the logger {name}", "RAY_QUIET_LOGGERS")


def test_ray_settings_sets_and_restores_environment_and_log_levels(monkeypatch):
    monkeypatch.delenv("RAY_AIR_NEW_OUTPUT", raising=False)
    monkeypatch.setenv("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "7")  # the user's own
    monkeypatch.delenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", raising=False)
    before = {name: logging.getLogger(name).level for name in internals.RAY_QUIET_LOGGERS}
    with internals.ray_settings():
        assert os.environ["RAY_AIR_NEW_OUTPUT"] == "0"
        assert os.environ["TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S"] == "7"
        assert os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] == "1"
        for name, level in internals.RAY_QUIET_LOGGERS.items():
            assert logging.getLogger(name).getEffectiveLevel() >= level
    assert "RAY_AIR_NEW_OUTPUT" not in os.environ and "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS" not in os.environ
    assert os.environ["TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S"] == "7"
    assert {name: logging.getLogger(name).level for name in internals.RAY_QUIET_LOGGERS} == before


def test_ray_output_keeps_ray_s_own_output_but_not_its_second_tensorboard(monkeypatch):
    monkeypatch.delenv("RAY_AIR_NEW_OUTPUT", raising=False)
    monkeypatch.setenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "0")
    levels = {name: logging.getLogger(name).level for name in internals.RAY_QUIET_LOGGERS}
    with internals.ray_settings(ray_output=True):
        assert "RAY_AIR_NEW_OUTPUT" not in os.environ
        assert os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] == "1"  # forced: a correctness matter
        assert {name: logging.getLogger(name).level for name in internals.RAY_QUIET_LOGGERS} == levels
    assert os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] == "0"


def test_no_other_module_sets_environment_variables_or_reads_ray_private_parts():
    root = Path(internals.__file__).parent
    offenders = []
    for file in root.rglob("*.py"):
        if file.name == "internals.py" or "testing" in file.parts:
            continue
        text = file.read_text()
        for pattern in (r"os\.environ\[[^]]+\]\s*=", r"os\.environ\.(setdefault|update)", r"os\.putenv",
                        r"ray\._private", r"_internal_kv", r"\._local_tuner", r"\._experiment_analysis"):
            if re.search(pattern, text):
                offenders.append(f"{file.relative_to(root)}: {pattern}")
    assert not offenders, offenders


def test_ray_train_builds_its_default_callbacks_in_the_method_distributed_trials_override():
    from ray.train.torch import TorchTrainer
    from ray.train.v2._internal.callbacks import placement_group_callback

    loud(hasattr(TorchTrainer, "_create_default_callbacks"), "DataParallelTrainer._create_default_callbacks",
         "torch_trainer_class")
    loud(hasattr(placement_group_callback, "PlacementGroupCleanerCallback"),
         "ray.train.v2._internal.callbacks.placement_group_callback.PlacementGroupCleanerCallback",
         "torch_trainer_class")
    source = inspect.getsource(importlib.import_module("ray.train.v2.api.data_parallel_trainer"))
    loud("PlacementGroupCleanerCallback()" in source, "the cleaner among the default callbacks", "torch_trainer_class")


def test_ray_train_reads_the_worker_group_start_timeout_where_internals_says():
    name, _ = internals.TRAIN_START_TIMEOUT_ENV
    source = inspect.getsource(importlib.import_module("ray.train.v2._internal.constants"))
    loud(f'"{name}"' in source, f"the environment variable {name}", "TRAIN_START_TIMEOUT_ENV")


def test_ray_train_logs_each_report_on_the_logger_internals_quiets():
    module = importlib.import_module(internals.TRAIN_REPORT_LOGGER_MODULE)
    loud(isinstance(getattr(module, "logger", None), logging.Logger), f"{internals.TRAIN_REPORT_LOGGER_MODULE}.logger",
         "quiet_train_reports")
    loud("Reporting training result" in inspect.getsource(module), "the per-report INFO line", "quiet_train_reports")
    before = module.logger.level
    try:
        internals.quiet_train_reports()
        assert not module.logger.isEnabledFor(logging.INFO) and module.logger.isEnabledFor(logging.WARNING)
    finally:
        module.logger.setLevel(before)


def test_a_callback_finds_the_tune_controller_that_sets_it_up():
    """`tune_controller_calling_setup`: TuneController.setup_experiments calls each callback's
    setup through a CallbackList; the frame walk finds the controller (no Ray: an empty instance
    of the real class runs its real method)."""
    from ray.tune.callback import Callback, CallbackList
    from ray.tune.execution.tune_controller import TuneController

    found = []

    class Probe(Callback):
        def setup(self, **info):
            found.append(internals.tune_controller_calling_setup())

    controller = object.__new__(TuneController)
    controller._callbacks = CallbackList([Probe()])
    TuneController.setup_experiments(controller, experiments=[None], total_num_samples=1)
    loud(found == [controller], "the call path TuneController.setup_experiments -> Callback.setup",
         "tune_controller_calling_setup")
    assert internals.tune_controller_calling_setup() is None  # called from anywhere else: nothing


def test_the_controller_saves_its_state_on_demand_and_waits():
    from ray.tune.execution.tune_controller import TuneController

    params = inspect.signature(TuneController.checkpoint).parameters
    loud({"force", "wait"} <= params.keys(), "TuneController.checkpoint(force=, wait=)", "save_experiment_state")


def test_the_snapshot_callback_pickles_without_its_controller():
    import pickle

    from autolearn.execution.snapshots import SnapshotOnTrialEnd

    callback = SnapshotOnTrialEnd()
    callback._controller, callback._ended = object(), True
    copy = pickle.loads(pickle.dumps(callback))
    assert copy._controller is None and copy._ended is False

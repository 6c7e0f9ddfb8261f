"""What the cluster can run, checked before the sweep: GPUs where there are none fail at once.

The session's Ray is a local instance (2 CPUs, no GPU) with Ray's read-only monitor: no
autoscaler, so nothing can ever give a trial a GPU and the sweep must not start.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autolearn import Experiment, run_experiment
from autolearn.errors import ResourceError
from autolearn.execution.cluster import check_resources, cluster_capacity, scan_monitor

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("ray_session")


def _exp(seed_dict: dict, storage: str, **resources) -> Experiment:
    return Experiment.from_dict({**seed_dict, "storage": storage, "resources": resources,
                                 "train": {**seed_dict["train"], "epochs": 1},
                                 "search": {"strategy": "random", "num_samples": 1, "seed": 0}})


def test_local_instance_has_no_autoscaler_and_its_monitor_is_read_only():
    import ray

    assert scan_monitor(ray.get_runtime_context().gcs_address) == {"config": None}
    capacity = cluster_capacity()
    assert not capacity.autoscaler and capacity.node_types == [] and not capacity.multi_node
    assert capacity.nodes[0]["CPU"] == 2 and "GPU" not in capacity.nodes[0]


@pytest.mark.parametrize("gpus", [1, 0.25, 2])
def test_gpus_on_a_cluster_without_gpus_fail_before_any_trial(seed_dict, storage, gpus):
    exp = _exp(seed_dict, storage, gpus_per_trial=gpus)
    with pytest.raises(ResourceError) as err:
        run_experiment(exp)
    message = str(err.value)
    assert f"GPU={gpus:g}" in message and "no autoscaler" in message and "gpus_per_trial: 0" in message
    assert not list(Path(storage).glob("*/train_trial_*")), "a trial started"


@pytest.mark.parametrize("cpus, ok", [(0.5, True), (2, True), (3, False)])
def test_cpus_per_trial_must_fit_on_one_node(cpus, ok):
    capacity = cluster_capacity()
    if ok:
        check_resources(cpus, 0, capacity)
    else:
        with pytest.raises(ResourceError, match="lower resources.cpus_per_trial"):
            check_resources(cpus, 0, capacity)


def test_cli_exits_2_within_its_start_when_gpus_are_asked_of_a_gpu_less_machine(tmp_path):
    """A fresh local Ray (not the session's): the command ends by itself, it does not wait for a GPU."""
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "sweep.py"), "--gpus-per-trial", "1",
                           "--storage", str(tmp_path), "--name", "gpu", "--max-epochs", "1"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 2, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "GPU=1" in errors[0] and "no autoscaler" in errors[0], proc.stderr[-3000:]

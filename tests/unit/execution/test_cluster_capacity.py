"""Placement feasibility without Ray: present nodes, launchable node types, their bounds, storage."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from autolearn.errors import ResourceError
from autolearn.execution.cluster import Capacity, NodeType, check_resources, node_types_of
from autolearn.results.storage import filesystem_type, warn_if_not_shared

ROOT = Path(__file__).resolve().parents[3]
HEAD = {"CPU": 8.0}
GPU_TYPES = node_types_of(yaml.safe_load((ROOT / "cluster" / "gpu.yaml").read_text()))


def test_node_types_come_from_the_launcher_config_and_the_head_adds_none():
    assert {t.name: (t.resources["GPU"], t.max_workers) for t in GPU_TYPES} == {
        "head": (0, 0), "gpu_4x_a10g": (4, 4), "gpu_8x_a100": (8, 2)}
    assert Capacity([HEAD], GPU_TYPES, autoscaler=True).multi_node


def test_a_local_provider_cluster_without_worker_ips_is_one_machine():
    from ray.autoscaler._private.util import prepare_config

    config = yaml.safe_load((ROOT / "cluster" / "local.yaml").read_text())
    config["provider"]["worker_ips"] = []
    capacity = Capacity([HEAD], node_types_of(prepare_config(config)), autoscaler=True)
    assert not capacity.multi_node
    with pytest.raises(ResourceError, match="local.cluster.node: no CPU/GPU, max_workers 0"):
        check_resources(1, 1, capacity)


@pytest.mark.parametrize("cpus, gpus", [(1, 0.25), (1, 0.5), (4, 1), (12, 4), (48, 8)])
def test_an_autoscaler_that_can_launch_gpu_nodes_lets_the_sweep_proceed(cpus, gpus):
    check_resources(cpus, gpus, Capacity([HEAD], GPU_TYPES, autoscaler=True))


@pytest.mark.parametrize("cpus, gpus, hint", [(1, 16, "gpus_per_trial"), (200, 1, "cpus_per_trial")])
def test_no_node_type_big_enough_fails_naming_the_types(cpus, gpus, hint):
    with pytest.raises(ResourceError) as err:
        check_resources(cpus, gpus, Capacity([HEAD], GPU_TYPES, autoscaler=True))
    assert "gpu_8x_a100: CPU=96, GPU=8, max_workers 2" in str(err.value) and hint in str(err.value)


def test_a_node_type_with_max_workers_0_never_counts():
    types = [NodeType("gpu", {"CPU": 8, "GPU": 4}, max_workers=0)]
    with pytest.raises(ResourceError, match="none of the node types"):
        check_resources(1, 1, Capacity([HEAD], types, autoscaler=True))


def test_undeclared_node_type_resources_proceed_with_a_warning(caplog):
    # e.g. cluster/local.yaml: the launcher learns a machine's resources when it starts Ray there
    with caplog.at_level(logging.INFO, logger="autolearn.execution.cluster"):
        check_resources(1, 1, Capacity([HEAD], [NodeType("local", {}, 2)], autoscaler=True))
        check_resources(1, 1, Capacity([HEAD], [], autoscaler=True))
    assert "could not be read" in caplog.text


def test_a_trial_must_fit_on_one_node_not_on_the_sum():
    two_small = Capacity([{"CPU": 4, "GPU": 1}, {"CPU": 4, "GPU": 1}])
    check_resources(4, 1, two_small)
    with pytest.raises(ResourceError, match="no autoscaler"):
        check_resources(1, 2, two_small)


def test_storage_warning_only_for_local_paths_on_several_nodes(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="autolearn.results.storage"):
        assert not warn_if_not_shared(str(tmp_path), multi_node=False)
        assert not warn_if_not_shared("s3://bucket/runs", multi_node=True)
        assert warn_if_not_shared(str(tmp_path / "runs"), multi_node=True)
    assert "s3://" in caplog.text and "NFS" in caplog.text
    assert filesystem_type(tmp_path / "not" / "yet") == filesystem_type(tmp_path) != ""

"""Distributed trials' placement without Ray: N worker bundles over present and launchable nodes."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autolearn import Experiment
from autolearn.config.sections import ResourcesSpec
from autolearn.errors import ResourceError
from autolearn.execution.cluster import Capacity, NodeType, node_types_of
from autolearn.execution.workers import check_workers, limit_concurrency, slots, worker_slots

ROOT = Path(__file__).resolve().parents[3]
GPU_TYPES = node_types_of(yaml.safe_load((ROOT / "cluster" / "gpu.yaml").read_text()))
LAPTOP = Capacity([{"CPU": 2.0}])


def _workers(n: int, cpus: float = 1.0, gpus: float = 0.0) -> ResourcesSpec:
    return ResourcesSpec(workers_per_trial=n, cpus_per_worker=cpus, gpus_per_worker=gpus)


def test_bundles_count_per_node_and_survive_float_division():
    assert slots({"CPU": 2.0}, {"CPU": 0.1, "GPU": 0.0}) == 20
    assert slots({"CPU": 8.0, "GPU": 2.0}, {"CPU": 1.0, "GPU": 1.0}) == 2
    assert worker_slots(Capacity([{"CPU": 2.0}, {"CPU": 3.0}]), {"CPU": 1.0}) == (5, 0)


@pytest.mark.parametrize("workers, cpus, ok", [(2, 0.5, True), (2, 1, True), (4, 0.5, True), (3, 1, False),
                                               (5, 0.5, False)])
def test_workers_must_fit_the_live_nodes_without_an_autoscaler(workers, cpus, ok):
    if ok:
        check_workers(_workers(workers, cpus), LAPTOP)
        return
    with pytest.raises(ResourceError) as err:
        check_workers(_workers(workers, cpus), LAPTOP)
    message = str(err.value)
    assert "\n" not in message and f"resources.workers_per_trial: {workers} workers of CPU={cpus:g}" in message
    assert f"its nodes hold {int(2 / cpus)} such workers" in message and "there is no autoscaler" in message


def test_gpu_workers_count_the_gpu_nodes_the_autoscaler_may_add():
    head = Capacity([{"CPU": 8.0}], GPU_TYPES, autoscaler=True)
    check_workers(_workers(8 * 2 + 4 * 4, cpus=1, gpus=1), head)  # every node the config allows
    with pytest.raises(ResourceError, match="hold 0 such workers and its autoscaler can add 32 more"):
        check_workers(_workers(8 * 2 + 4 * 4 + 1, cpus=1, gpus=1), head)
    with pytest.raises(ResourceError, match="GPU=1"):
        check_workers(_workers(2, gpus=1), LAPTOP)


def test_an_autoscaler_of_unknown_node_types_is_trusted():
    check_workers(_workers(64, gpus=1), Capacity([{"CPU": 2.0}], [], autoscaler=True))
    check_workers(_workers(64, gpus=1), Capacity([{"CPU": 2.0}], [NodeType("any", {}, 1)], autoscaler=True))


@pytest.mark.parametrize("given, expected", [(None, 2), (1, 1), (5, 2)])
def test_concurrency_is_capped_at_the_trials_whose_workers_fit_together(seed_dict, given, expected):
    exp = Experiment.from_dict({**seed_dict, "resources": {"workers_per_trial": 2, "cpus_per_worker": 0.5},
                                "search": {**seed_dict["search"], "max_concurrent": given}})
    assert limit_concurrency(exp, LAPTOP).search.max_concurrent == expected
    single = Experiment.from_dict(seed_dict)
    assert limit_concurrency(single, LAPTOP) is single
    unbounded = Capacity([{"CPU": 2.0}], [], autoscaler=True)
    assert limit_concurrency(exp, unbounded).search.max_concurrent == given
    gpu_cluster = Capacity([{"CPU": 8.0}], GPU_TYPES, autoscaler=True)  # 2×8 + 4×4 GPUs, 1 per worker
    gpu_exp = Experiment.from_dict({**seed_dict, "resources": {"workers_per_trial": 4, "gpus_per_worker": 1}})
    assert limit_concurrency(gpu_exp, gpu_cluster).search.max_concurrent == 8

"""One local autoscaling cluster for every test in tests/cluster (starting one costs tens of seconds).

Tests that share it run in file order: test_local_autoscaling first proves the autoscaler adds GPU
nodes to a head-only cluster; test_node_loss then kills one of those worker nodes under running
trials (the autoscaler replaces it when needed). Nodes stay up between them (idle_timeout_minutes
is 10 in cluster/gpu.yaml), which is what a real cluster between two sweeps looks like.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from local_cluster import LocalCluster


@pytest.fixture(scope="session")
def cluster():
    local = LocalCluster()
    try:
        local.start()
        yield local
    finally:
        left = local.stop()
        assert not left, f"processes of the local cluster still alive: {left}"
        assert not local.pids()

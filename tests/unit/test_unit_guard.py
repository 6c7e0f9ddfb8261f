"""The guard in tests/unit/conftest.py: a unit test that starts a process or Ray fails, naming why."""
from __future__ import annotations

import subprocess
import sys

import pytest


def test_a_unit_test_cannot_start_a_process():
    with pytest.raises(AssertionError, match="started a process; move it to tests/integration"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_a_unit_test_cannot_start_ray():
    import ray

    with pytest.raises(AssertionError, match="move it to tests/integration"):
        ray.init(num_cpus=1, include_dashboard=False)
    assert not ray.is_initialized()

"""Shared fixtures: one real local Ray instance for the whole session, sized for a 2-core machine.

Everything under tests/integration and tests/cluster is marked `integration` here (a hook, so no
file can forget it). Unit tests run first, so a unit failure shows in seconds; tests/cluster runs
last, so its shared cluster (tests/cluster/conftest.py) lives only while its tests run.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# Ray workers import functions defined in test modules by module name (pytest puts each test
# folder on sys.path); the workers inherit this PYTHONPATH, so they can import them too.
_TESTS = os.path.dirname(os.path.abspath(__file__))
_DIRS = [_TESTS] + [os.path.join(_TESTS, d) for d in sorted(os.listdir(_TESTS))
                    if os.path.isdir(os.path.join(_TESTS, d)) and not d.startswith((".", "_"))]
os.environ["PYTHONPATH"] = os.pathsep.join(_DIRS + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")


_ORDER = {"integration": 1, "cluster": 2}  # folders under tests/ whose tests start Ray or processes


def _folder(item: pytest.Item) -> str:
    parts = Path(str(item.path)).relative_to(_TESTS).parts
    return parts[0] if len(parts) > 1 else ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _folder(item) in _ORDER:
            item.add_marker(pytest.mark.integration)
    items.sort(key=lambda item: _ORDER.get(_folder(item), 0))  # stable: the order within a folder is kept


@pytest.fixture(scope="session")
def ray_session():
    """A local Ray instance reused by every integration test (start-up costs seconds)."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


@pytest.fixture
def storage(tmp_path):
    """A fresh storage folder per test, so experiment names never collide."""
    return str(tmp_path / "runs")


@pytest.fixture
def seed_dict():
    from autolearn.config.defaults import seed_spec

    return seed_spec()

"""Unit tests start no Ray and no process: a guard on our own tests, so they stay fast and isolated.

Every process a test could start (`subprocess.run`, `Popen`, Ray's own launchers, which subclass
`Popen`) goes through `Popen._execute_child`, and every way of starting Ray through `ray.init`
(Tune's auto-start included); both raise here. A test that needs either belongs in
tests/integration.
"""
from __future__ import annotations

import subprocess
import sys
from typing import Any

import matplotlib
import pytest

# matplotlib builds its font cache on first use by running `fc-list`: build it now, before the
# guard, so on a fresh machine the first unit test that draws a plot is not taken for one that
# starts a process (seen on a machine without the cache).
matplotlib.use("Agg")
import matplotlib.font_manager


def _refuse(what: str) -> Any:
    def guard(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a unit test {what}; move it to tests/integration")

    return guard


@pytest.fixture(autouse=True)
def _no_ray_and_no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess.Popen, "_execute_child", _refuse("started a process"))
    # Ray not imported yet: a test that imports it and calls ray.init is still stopped, by the
    # process guard above (Ray starts its GCS and raylet with Popen).
    if "ray" in sys.modules:
        import ray

        monkeypatch.setattr(ray, "init", _refuse("started Ray (ray.init)"))
        monkeypatch.setattr(sys.modules["ray._private.worker"], "init", _refuse("started Ray (ray.init)"))

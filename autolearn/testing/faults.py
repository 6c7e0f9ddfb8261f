"""A test-only fault injector: real faults for the retry, resume and timeout paths.

`run.inject_fault` exists **for tests only**: it makes the built-in trainable raise, kill its
own process, or run slowly, so the retry, resume and timeout paths can be proven under real
faults. It fires at most once per trial (a marker file in the trial folder remembers it), so a
retried trial goes on from its checkpoint and finishes. Never set it in a real sweep.
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autolearn.errors import ConfigError, allowed

FAULT_KINDS = ("raise", "exit", "slow")
_MARKER = ".autolearn_fault_injected"




def check_fault(data: Any, path: str = "run.inject_fault") -> dict[str, Any] | None:
    """Validate the test-only fault spec: `{kind: raise|exit|slow, epoch: N, seconds: S}`."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ConfigError(path, f"expected a mapping like {{kind: raise, epoch: 2}}, got {data!r}")
    unknown = set(data) - {"kind", "epoch", "seconds"}
    if unknown:
        raise ConfigError(f"{path}.{sorted(unknown)[0]}", "unknown key; allowed: 'epoch', 'kind', 'seconds'")
    kind = data.get("kind", "raise")
    if kind not in FAULT_KINDS:
        raise ConfigError(f"{path}.kind", f"unknown fault {kind!r}; allowed: {allowed(FAULT_KINDS)}")
    epoch, seconds = data.get("epoch", 1), data.get("seconds", 1.0)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise ConfigError(f"{path}.epoch", f"must be a whole number >= 1, got {epoch!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ConfigError(f"{path}.seconds", f"must be a number of seconds > 0, got {seconds!r}")
    return {"kind": kind, "epoch": epoch, "seconds": float(seconds)}


class InjectedFault(RuntimeError):
    """Raised by `run.inject_fault: {kind: raise}`; a test sees it in the trial's traceback."""


def maybe_inject(fault: Mapping[str, Any] | None, epoch: int) -> None:
    """Called by the trainable at the start of each epoch; does nothing unless a test asked."""
    if not fault or epoch < fault["epoch"]:
        return
    if fault["kind"] == "slow":
        time.sleep(fault["seconds"])
        return
    if epoch != fault["epoch"]:
        return
    from ray import tune

    marker = Path(tune.get_context().get_trial_dir()) / _MARKER
    if marker.exists():
        return  # fired already: this is the retry, let it finish
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{fault['kind']} at epoch {epoch}\n")
    if fault["kind"] == "exit":
        os._exit(1)  # the worker process dies, as on an out-of-memory kill
    raise InjectedFault(f"run.inject_fault: injected failure at epoch {epoch} (test-only hook)")

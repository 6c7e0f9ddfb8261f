"""A fused sweep's saved state: what `--resume` needs to go on where the driver stopped.

Tune's controller keeps its state in `experiment_state-*.json`; a fused sweep has no controller, so
its driver keeps the same parts in one file, `fused-state.pkl`, written whole and atomically:
every trial as Tune serialises it (`Trial.get_json_state`, with its checkpoints), the search
algorithm's own saved files (`save_to_dir`) and the scheduler (cloudpickled, as Tune keeps it). The
saves are capped at `SHARE` of the sweep's time (`StateSaver`); a member that finished after the
last save is trained again on resume, from its last checkpoint.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from autolearn.results import storage

STATE_FILE = "fused-state.pkl"
SHARE = 0.05          # of the sweep's time, at most, spent saving its state
MIN_INTERVAL_S = 0.5  # and never more often than this


def has_state(directory: str) -> bool:
    return storage.exists(f"{directory.rstrip('/')}/{STATE_FILE}")


def save_state(directory: str, ledger: Any, search_alg: Any, scheduler: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="autolearn-search-") as scratch:
        search_alg.save_to_dir(scratch, session_str="fused")
        search_files = {p.name: p.read_bytes() for p in Path(scratch).iterdir() if p.is_file()}
    state = {"version": 1, "trials": ledger.states(), "search": search_files,
             "scheduler": scheduler}
    from ray import cloudpickle  # as Tune pickles a scheduler: some hold lambdas (the median rule)

    storage.write_bytes(directory, STATE_FILE, cloudpickle.dumps(state))


def load_state(directory: str, search_alg: Any) -> tuple[list[tuple[str, str]], Any]:
    """The trials' (json state, run metadata) pairs and the scheduler; `search_alg` is restored in place."""
    from ray import cloudpickle

    state = cloudpickle.loads(storage.read_bytes(directory, STATE_FILE))
    with tempfile.TemporaryDirectory(prefix="autolearn-search-") as scratch:
        for name, data in state["search"].items():
            (Path(scratch) / name).write_bytes(data)
        if state["search"]:
            search_alg.restore_from_dir(scratch)
    return state["trials"], state["scheduler"]


class StateSaver:
    """Saves when a trial ended since the last save (or when forced), within the time cap."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.began = time.monotonic()
        self.spent = 0.0
        self.last = -float("inf")
        self.changed = False

    def maybe_save(self, ledger: Any, search_alg: Any, scheduler: Any, force: bool = False) -> bool:
        """Save if due; whether it saved."""
        now = time.monotonic()
        if not force:
            if not self.changed or now - self.last < MIN_INTERVAL_S:
                return False
            if self.spent > SHARE * max(now - self.began, 1.0):
                return False
        started = time.monotonic()
        save_state(self.directory, ledger, search_alg, scheduler)
        self.spent += time.monotonic() - started
        self.last, self.changed = time.monotonic(), False
        return True

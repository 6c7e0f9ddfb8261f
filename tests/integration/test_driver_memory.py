"""The driver's memory stays flat as trials finish: autolearn keeps nothing per finished trial.

Measured, not timed: the driver's Python heap (tracemalloc) between the 4th and the last finished
trial of a real sweep. What autolearn's own code allocated and still holds (its callbacks: the
TensorBoard runs, the failure reporter, the stopper, the fused hub's callback) must stay within a
few hundred bytes per trial; the whole heap, Ray Tune's per-trial bookkeeping included (its Trial
objects, ~40 KiB each with their last results), within a loose budget that catches a leak of
whole results or writers. Budgets are per finished trial, so a slower machine changes nothing.
"""
from __future__ import annotations

import gc
import tracemalloc

import pytest
from ray import tune

from autolearn import Experiment, run_experiment

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.slow]
FIRST, TRIALS = 4, 16
OURS_PER_TRIAL = 1024       # bytes held by allocations made in autolearn's files, per finished trial
ALL_PER_TRIAL = 128 * 1024  # the whole driver heap per finished trial (Ray Tune's share measured ~40 KiB)


class _Snapshots(tune.Callback):
    def __init__(self) -> None:
        self.done, self.at = 0, {}

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.done += 1
        if self.done in (FIRST, TRIALS):
            gc.collect()
            self.at[self.done] = tracemalloc.take_snapshot()


def test_driver_heap_does_not_grow_per_finished_trial(seed_dict, storage):
    data = {**seed_dict, "storage": storage, "name": "memory"}
    data["task"] = {**seed_dict["task"], "dataset": {**seed_dict["task"]["dataset"], "n_samples": 120}}
    data["train"] = {**seed_dict["train"], "epochs": 1}
    data["search"] = {"strategy": "random", "num_samples": TRIALS, "seed": 1}
    probe = _Snapshots()
    tracemalloc.start(1)
    try:
        result = run_experiment(Experiment.from_dict(data), callbacks=[probe])
    finally:
        tracemalloc.stop()
    assert len(result.trials) == TRIALS and set(probe.at) == {FIRST, TRIALS}
    before, after = probe.at[FIRST], probe.at[TRIALS]
    ours = [tracemalloc.Filter(True, "*/autolearn/*")]
    held = sum(d.size_diff for d in after.filter_traces(ours).compare_to(before.filter_traces(ours), "filename"))
    total = sum(d.size_diff for d in after.compare_to(before, "filename"))
    finished = TRIALS - FIRST
    assert held / finished <= OURS_PER_TRIAL, f"autolearn holds {held / finished:.0f} B more per finished trial"
    assert total / finished <= ALL_PER_TRIAL, f"the driver holds {total / finished / 1024:.1f} KiB more per trial"

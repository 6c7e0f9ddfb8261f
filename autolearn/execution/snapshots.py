"""Save Ray Tune's experiment state as soon as a trial ends, so a resume never runs it again.

Tune snapshots its experiment state (which trials finished, the searcher's state) at most every
10 s or so (`TUNE_GLOBAL_CHECKPOINT_S` "auto": max(10 s, 19 x the time a save takes)). A driver
killed after a trial ended but before the next snapshot resumes that trial as still running: it
starts again from its last checkpoint, and a fused member brings its group's worker back. This
callback closes that window: at the end of every step of Tune's loop in which a trial ended, it has
the controller save the state and waits until it is at the storage. The cost is one save per
step in which trials ended, and a save writes every trial's state, so it grows with the sweep
(docs/BENCHMARKS.md: ~20 ms at 20 trials, ~60-90 ms at 100, local disk). Sweeps of many short
trials would pay that on every trial, so the saves may take at most `BUDGET` (5%) of the sweep's
time: past it, a save waits for the next step that fits, and Tune's own schedule still applies.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from ray.tune import Callback

log = logging.getLogger(__name__)
BUDGET = 0.05  # the share of the sweep's time the saves may take


class SnapshotOnTrialEnd(Callback):
    """Save the experiment state at the end of each step in which a trial completed or failed.

    `seconds` and `saves` add up what the saves cost (for the benchmark and the logs).
    """

    def __init__(self) -> None:
        self._controller: Any = None
        self._ended = False
        self._since = time.perf_counter()
        self.saves, self.seconds = 0, 0.0

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the Tuner and the experiment state: never the live controller."""
        return {**self.__dict__, "_controller": None, "_ended": False}

    def setup(self, stop: Any = None, num_samples: int | None = None, total_num_samples: int | None = None,
              **info: Any) -> None:
        from autolearn.internals import tune_controller_calling_setup

        self._controller = tune_controller_calling_setup()
        self._since, self.seconds = time.perf_counter(), 0.0  # this run's time (a resume starts afresh)
        if self._controller is None:
            log.warning("this Ray version hides its TuneController from callbacks: the experiment state is "
                        "saved on Tune's own schedule, and a trial that ends just before a crash runs again "
                        "on resume")

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._ended = True

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._ended = True

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        """After the step's own (throttled) save: the ended trials' statuses are final by now."""
        if not self._ended or self._controller is None:
            return
        if self.seconds > BUDGET * (time.perf_counter() - self._since):
            return  # over budget: a later step saves it (or Tune's own schedule does)
        from autolearn.internals import save_experiment_state

        self._ended = False
        started = time.perf_counter()
        save_experiment_state(self._controller)
        self.saves += 1
        self.seconds += time.perf_counter() - started

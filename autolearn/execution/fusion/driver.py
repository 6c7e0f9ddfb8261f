"""The fused sweep's driver: Tune's search algorithm, scheduler and callbacks, driven per member.

Each config is a real Ray Tune `Trial` (made by the search algorithm itself, with Tune's ids,
folders, checkpoints and result files), but no trial has a process of its own: group hosts
(`host.py`) train K members at a time, and this driver does for every member what Tune's
controller does for a trial: it asks the search algorithm for the next trial, tells the scheduler
and the searcher every result and every end, stops a member the scheduler stops (it costs no
compute from the next epoch), registers its checkpoints, retries its failures from its last
checkpoint, and calls the callbacks (result files, TensorBoard, live progress) as Tune would.
Its `fit()` returns Tune's own `ResultGrid`, so results, the best checkpoint and its test score
are collected exactly as for any sweep.

Why not a Tune trial per member (the first design): each would be a Ray actor process, and on a
small machine those processes cost more than the training fusion saves (docs/BENCHMARKS.md).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from autolearn.execution.fusion.host import FAILED
from autolearn.execution.fusion.ledger import TrialLedger
from autolearn.execution.fusion.pool import HostPool, Slot
from autolearn.execution.fusion.reports import auto_filled, checkpoint_bytes, persist_checkpoint
from autolearn.execution.fusion.staging import upload
from autolearn.execution.fusion.state import STATE_FILE, StateSaver, load_state

log = logging.getLogger(__name__)


class _Controller:
    """What schedulers ask of Tune's controller (the median rule: the live trials)."""

    def __init__(self, ledger: TrialLedger) -> None:
        self._ledger = ledger

    def get_trials(self) -> list[Any]:
        return self._ledger.live_trials()  # ended trials are frozen: only live ones are asked about

    def get_live_trials(self) -> list[Any]:
        from ray.tune.experiment import Trial

        return [t for t in self._ledger.live_trials() if t.status not in (Trial.TERMINATED, Trial.ERROR)]


class FusedSweep:
    """`fit()` runs the sweep and returns its `ResultGrid`; the runner treats it as a Tuner."""

    def __init__(self, exp: Any, job: Any, search_alg: Any, scheduler: Any, experiment: Any, callbacks: Sequence[Any],
                 stopper: Callable[[str, dict], bool], *, k: int, pool: HostPool, directory: str) -> None:
        from ray.tune.callback import CallbackList

        logging.getLogger("ray.train").setLevel(logging.WARNING)  # a line per member checkpoint is noise

        self.exp, self.job, self.search_alg, self.scheduler = exp, job, search_alg, scheduler
        self.experiment, self.callbacks_given = experiment, list(callbacks)
        self.callbacks = CallbackList(self.callbacks_given)
        self.stopper = stopper
        self.should_stop: Callable[[], bool] = lambda: False  # `watch` sets it
        self.k, self.pool = k, pool
        self.ledger = TrialLedger()
        self.queue: list[Any] = []  # trials to (re)start before asking the search algorithm: retries, resume
        self.controller = _Controller(self.ledger)
        self.iteration = 0
        self.saver = StateSaver(directory)
        self.began: dict[str, float] = {}
        self.added: set[str] = set()
        self.resumed_after: dict[str, int] = {}  # the epoch each running member went on from (0: fresh)

    def watch(self, interruption: Any, guard: Any = None) -> None:
        """Stop at the next epoch once a stop signal came (`signals.interrupt_guard`) or the storage
        guard stopped the sweep (`disk_guard.py`): Tune's own stop signal reaches no controller here."""
        self.should_stop = lambda: bool(interruption) or (guard is not None and guard.reason is not None)

    # --- resume -------------------------------------------------------------------------------

    def restore(self) -> None:
        """Trials, searcher and scheduler as the last save left them; unfinished trials go on from
        their last checkpoints, finished ones are kept as they are."""
        import copy

        from ray.tune.experiment import Trial

        saved, self.scheduler = load_state(self.saver.directory, self.search_alg)
        for json_state, metadata in saved:
            trial = Trial.from_json_state(json_state)
            trial.restore_run_metadata(metadata)
            new_storage: Any = copy.copy(trial.storage)  # the folder may have moved since
            new_storage.storage_filesystem = self.experiment.storage.storage_filesystem
            new_storage.storage_fs_path = self.experiment.storage.storage_fs_path
            new_storage.experiment_dir_name = self.experiment.storage.experiment_dir_name
            trial.set_storage(new_storage)
            trial.init_local_path()
            self.ledger.add(trial)
            self.added.add(trial.trial_id)
            if trial.status not in (Trial.TERMINATED, Trial.ERROR):
                trial.set_status(Trial.PENDING)
                self.queue.append(trial)
            else:
                self._freeze(trial)

    # --- the loop -----------------------------------------------------------------------------

    def fit(self) -> Any:
        from ray.tune import ResultGrid
        from ray.tune.analysis import ExperimentAnalysis

        total = getattr(self.search_alg, "total_samples", 0)
        self.callbacks.setup(stop=None, num_samples=None, total_num_samples=total)
        try:
            while not self.should_stop():
                self._fill()
                if not any(slot.members for slot in self.pool.slots):
                    break
                self.callbacks.on_step_begin(iteration=self.iteration, trials=self._live())
                for slot in self.pool.train_round():
                    self._process(slot)
                self.callbacks.on_step_end(iteration=self.iteration, trials=self._live())
                self._save()
                self.iteration += 1
        finally:
            self._save(force=True)
            self.callbacks.on_experiment_end(trials=self._live())
            self.pool.close()
        # A path to a state file (never read: the trials are given) keeps Tune from looking for its own.
        state = f"{self.experiment.storage.experiment_fs_path}/{STATE_FILE}.json"
        analysis = ExperimentAnalysis(state, trials=self.ledger.trials(), default_metric=self.exp.metric.name,
                                      default_mode=self.exp.metric.mode,
                                      storage_filesystem=self.experiment.storage.storage_filesystem)
        return ResultGrid(analysis)

    def _fill(self) -> None:
        """Seat new members wherever a group has room: retried and resumed trials first. A remote group
        with an epoch in flight is left for its next round (seating would wait for that epoch)."""
        for slot in self.pool.slots:
            if slot.pending is not None:
                continue
            seats: list[tuple[Any, bytes | None]] = []
            while len(slot.members) + len(seats) < self.k:
                trial = self.queue.pop(0) if self.queue else self.search_alg.next_trial()
                if trial is None:
                    break
                seats.append((trial, self._start(trial)))
            if seats:
                self._seat(slot, seats)

    def _start(self, trial: Any) -> bytes | None:
        """Tune's start of a trial: added to the scheduler (once), running, announced; its state."""
        from ray.tune.experiment import Trial

        self.ledger.add(trial)
        if trial.trial_id not in self.added:  # a retried or resumed trial is known to the scheduler
            self.added.add(trial.trial_id)
            self.scheduler.on_trial_add(self.controller, trial)
        trial.init_local_path()
        if trial.placement_group_factory is None:  # Tune sets it when it places a trial; saved state needs it
            trial.update_resources({"cpu": self.exp.resources.cpus_per_trial, "gpu": self.exp.resources.gpus})
        trial.set_status(Trial.RUNNING)
        self.began[trial.trial_id] = time.time()
        self.callbacks.on_trial_start(iteration=self.iteration, trials=self._live(), trial=trial)
        self.saver.changed = True
        return checkpoint_bytes(trial.checkpoint)

    def _seat(self, slot: Slot, seats: list[tuple[Any, bytes | None]]) -> None:
        for trial, _ in seats:
            slot.members[trial.trial_id] = trial
        try:
            after = self.pool.seat(slot, [(t.trial_id, dict(t.config), state) for t, state in seats])
        except Exception as err:  # a host that cannot seat them fails them: retried as any failure
            self._fail(slot, err)
            return
        for (trial, _), epoch in zip(seats, after, strict=True):
            self.resumed_after[trial.trial_id] = epoch

    def _process(self, slot: Slot) -> None:
        if slot.error is not None:
            error, slot.error = slot.error, None
            self._fail(slot, error)
            return
        epochs, slot.done = slot.done or [], None
        took = time.time() - slot.started
        for key, metrics, blob, done in epochs:
            trial = slot.members.get(key)
            if trial is not None and FAILED in metrics:
                self._fail_members(slot, [trial], RuntimeError(metrics[FAILED]))
            elif trial is not None:
                self._report(slot, trial, metrics, blob, done, took)

    def _report(self, slot: Slot, trial: Any, metrics: dict[str, Any], blob: bytes | None, done: bool,
                took: float) -> None:
        """What Tune's controller does with one report of a trial (`_process_trial_result`)."""
        from ray.tune.schedulers import TrialScheduler
        from ray.tune.utils import flatten_dict

        began = self.began.get(trial.trial_id, time.time())
        result = auto_filled(trial, metrics, took, done, began, self.resumed_after.get(trial.trial_id, 0))
        if blob is not None:
            persisted = persist_checkpoint(trial, blob, result)
            self.callbacks.on_checkpoint(iteration=self.iteration, trials=self._live(), trial=trial,
                                         checkpoint=persisted)
            self.saver.changed = True
        flat = flatten_dict(result)
        if self.stopper(trial.trial_id, result):
            decision = TrialScheduler.STOP
        else:
            decision = self.scheduler.on_trial_result(self.controller, trial, flat)
        if decision == TrialScheduler.STOP:
            result["done"] = True
        else:
            self.search_alg.on_trial_result(trial.trial_id, flat)
        self.callbacks.on_trial_result(iteration=self.iteration, trials=self._live(), trial=trial, result=result)
        trial.update_last_result(result)
        if result["done"]:
            if not done:
                self.pool.drop(slot, trial.trial_id)
            self._complete(slot, trial)

    def _complete(self, slot: Slot, trial: Any) -> None:
        from ray.tune.experiment import Trial
        from ray.tune.utils import flatten_dict

        flat = flatten_dict(trial.last_result)
        self.scheduler.on_trial_complete(self.controller, trial, flat)
        self.search_alg.on_trial_complete(trial.trial_id, result=flat)
        trial.set_status(Trial.TERMINATED)
        self.callbacks.on_trial_complete(iteration=self.iteration, trials=self._live(), trial=trial)
        slot.members.pop(trial.trial_id, None)
        self._freeze(trial)
        self.saver.changed = True

    def _fail(self, slot: Slot, error: BaseException) -> None:
        """A host that failed fails each of its members: retried from their last checkpoints on a new
        host while `run.max_failures` allows, else ended with the error."""
        log.warning("a fused group of %d member(s) failed: %s", len(slot.members),
                    str(error).splitlines()[0] if str(error) else type(error).__name__)
        members = list(slot.members.values())
        self.pool.replace(slot)
        self._fail_members(slot, members, error)

    def _fail_members(self, slot: Slot, members: list[Any], error: BaseException) -> None:
        """Each of `members` failed (they have left their group): retried from its last checkpoint on
        whichever group has room while `run.max_failures` allows, else ended with the error."""
        from ray.tune.experiment import Trial

        for trial in members:
            slot.members.pop(trial.trial_id, None)
            trial.handle_error(error)
            if trial.should_recover():
                trial.set_status(Trial.PENDING)
                self.callbacks.on_trial_recover(iteration=self.iteration, trials=self._live(), trial=trial)
                self.queue.append(trial)
            else:
                self.scheduler.on_trial_error(self.controller, trial)
                self.search_alg.on_trial_complete(trial.trial_id, error=True)
                trial.set_status(Trial.ERROR)
                self.callbacks.on_trial_error(iteration=self.iteration, trials=self._live(), trial=trial)
                self._freeze(trial)
        self.saver.changed = True

    def _freeze(self, trial: Any) -> None:
        """An ended trial that every callback has seen: kept as its saved state from now on."""
        from autolearn.internals import forget_ended_trial

        forget_ended_trial(self.callbacks_given, trial)
        self.ledger.freeze(trial)
        for held in (self.began, self.resumed_after):  # nothing per ended trial stays behind
            held.pop(trial.trial_id, None)

    def _live(self) -> list[Any]:
        """The trials callbacks are shown (Tune shows them all; ended ones are frozen here)."""
        return self.ledger.live_trials()

    def _save(self, force: bool = False) -> None:
        if self.saver.maybe_save(self.ledger, self.search_alg, self.scheduler, force):
            upload(self.experiment.storage, self.saver.directory)  # a URI sweep's trial files



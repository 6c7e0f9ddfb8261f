"""Stop a sweep cleanly when its storage runs out of space, before it damages what it wrote.

A full disk hurts a sweep in three places at once: trials fail to persist checkpoints (and burn
their retries), callbacks fail to write TensorBoard events, and Ray's experiment state, written in
place, is cut short, so the sweep could not even be resumed. `StorageGuard` (local storage only;
object stores do not fill up) keeps `RESERVE_BYTES` allocated in the experiment folder
(`.autolearn-reserve`). When the free space falls below that much (checked every
`CHECK_EVERY_S` at the end of Tune's steps), or a trial fails with "No space left on device", it
frees the reserve and stops the sweep through Tune's own stop signal, as a Ctrl-C does (trials
that were running stay resumable, `signals.py`). The freed space lets Ray's last state save and
`results.csv`/`summary.json` be written whole; the runner then raises `StorageFull`. Once space is
back, `--resume` completes the sweep.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

from ray.tune import Callback

from autolearn.internals import TUNE_STOP_SIGNAL

log = logging.getLogger(__name__)
RESERVE_FILE = ".autolearn-reserve"
RESERVE_BYTES = 16 * 2**20
CHECK_EVERY_S = 1.0
FULL_MARKERS = ("No space left on device", "[Errno 28]", "ENOSPC")


def says_disk_full(text: str) -> bool:
    return any(marker in text for marker in FULL_MARKERS)


class StorageGuard(Callback):
    """See the module's docstring; `reason` is set once the guard stopped the sweep."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.reason: str | None = None
        self._next_check = 0.0

    @property
    def reserve(self) -> Path:
        return Path(self.folder) / RESERVE_FILE

    def setup(self, stop: Any = None, num_samples: int | None = None, total_num_samples: int | None = None,
              **info: Any) -> None:
        self.reason = None  # a resumed sweep starts unblamed
        self._allocate()

    def _allocate(self) -> None:
        if not Path(self.folder).is_dir():
            return  # never creates the folder (a moved experiment's old place stays gone)
        try:
            fd = os.open(self.reserve, os.O_CREAT | os.O_WRONLY, 0o644)
            try:
                os.posix_fallocate(fd, 0, RESERVE_BYTES)
            finally:
                os.close(fd)
        except (OSError, AttributeError) as err:  # no room even for the reserve; or no fallocate here
            self.release()
            log.warning("could not keep %d MB in reserve in %s (%s): a full disk may cut Ray's state short",
                        RESERVE_BYTES // 2**20, self.folder, err)

    def release(self) -> None:
        self.reserve.unlink(missing_ok=True)

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        now = time.monotonic()
        if self.reason is not None or now < self._next_check:
            return
        self._next_check = now + CHECK_EVERY_S
        try:
            free = shutil.disk_usage(self.folder).free
        except OSError:
            return
        if free < RESERVE_BYTES:
            self._stop(f"{free / 2**20:.1f} MB free")

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._check_error(trial)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._check_error(trial)

    def _check_error(self, trial: Any) -> None:
        try:
            text = Path(trial.error_file).read_text(errors="replace")
        except (OSError, TypeError):
            return
        if self.reason is None and says_disk_full(text):
            self._stop(f"trial {trial.trial_id} could not write: No space left on device")

    def _stop(self, detail: str) -> None:
        self.reason = detail
        self.release()
        stop_tune = getattr(signal, TUNE_STOP_SIGNAL, None)
        # Tune catches its stop signal only when fit() runs on the main thread; elsewhere the
        # signal would end the process, so the sweep goes on (and fails trial by trial).
        if stop_tune is None or threading.current_thread() is not threading.main_thread() or \
                signal.getsignal(stop_tune) in (signal.SIG_DFL, None):
            log.error("the storage %s is full (%s) and the sweep cannot be stopped from here", self.folder, detail)
            return
        log.error("the storage %s is full (%s): stopping the sweep; finished trials are kept", self.folder, detail)
        signal.raise_signal(stop_tune)


def find_storage_guard(callbacks: Any) -> StorageGuard | None:
    return next((c for c in callbacks or [] if isinstance(c, StorageGuard)), None)


def guard_of(tuner: Any) -> StorageGuard | None:
    """The `StorageGuard` among the tuner's callbacks (None for URI storage, or over Ray client)."""
    from autolearn.internals import tuner_run_config

    run_config = tuner_run_config(tuner)
    callbacks = run_config.callbacks if run_config is not None else getattr(tuner, "callbacks_given", None)
    return find_storage_guard(callbacks) if callbacks is not None else None

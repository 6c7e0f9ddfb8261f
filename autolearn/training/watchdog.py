"""End a trial that hangs past `run.trial_timeout`, even when it never reports again.

`TrialStopper` checks the time limit only when a trial reports, so a trial stuck inside an
epoch (a dead-locked data loader, a collective that never returns, a sleep in user code) ran
forever. The watchdog is a daemon thread beside the training thread: when the limit passes, it
reports the trial's last metrics with `timed_out: True` itself. The driver's stopper then ends
the trial (status `timeout`, like any trial past the limit) and the sweep goes on. A training
thread that was only slow ends at its next report; one that stays hung goes with its worker
process, which is why sweeps with a `trial_timeout` do not reuse workers (`execution/tuner.py`).
"""
from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)
# What a trial that hung before its first report says: no score, but every built-in metric, so
# Ray's metric check and the searchers accept the report.
NO_SCORE = {"epoch": 0, "train_loss": math.nan, "val_loss": math.nan, "val_accuracy": math.nan,
            "diverged": False}


class Watchdog:
    """Reports for the training thread, and once for it when `timeout` seconds pass first.

    `send` is `tune.report` (passed in, so this module stays Ray-free and unit-testable).
    Use as a context manager around the training loop; `timeout=None` watches nothing.
    """

    def __init__(self, timeout: float | None, send: Callable[..., None]) -> None:
        self.timeout = timeout
        self._send = send
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._last: dict[str, Any] = dict(NO_SCORE)
        self.fired = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Watchdog:
        if self.timeout is not None and self.timeout > 0:
            self._thread = threading.Thread(target=self._watch, name="autolearn-watchdog", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()

    def report(self, metrics: Mapping[str, Any], checkpoint: Any = None) -> None:
        """The training thread's report; once the watchdog has ended the trial, the training thread
        ends here instead (`SystemExit(0)`: how Ray's own session ends a stopped trial's thread)."""
        with self._lock:
            if self.fired:
                raise SystemExit(0)
            self._last = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool))}
            self._send(dict(metrics), checkpoint=checkpoint)

    def _watch(self) -> None:
        if self._done.wait(self.timeout):
            return
        with self._lock:
            if self._done.is_set():
                return
            self.fired = True
            log.warning("trial ran past run.trial_timeout=%ss without finishing its epoch; ending it",
                        self.timeout)
            self._send({**self._last, "timed_out": True}, checkpoint=None)

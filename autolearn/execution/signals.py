"""Stop a sweep cleanly on Ctrl-C, SIGTERM and SIGHUP, and remember which signal it was.

Ray Tune catches SIGINT itself and then ends `fit()` *normally*: without help, an interrupted
sweep looked finished (trials written as `stopped`, a best scored, exit code 0). SIGTERM (what a
cluster scheduler or `docker stop` sends) and SIGHUP (a dropped SSH session) killed the driver
outright. `interrupt_guard` handles all three the same way: it records the signal and asks Ray
to stop through Ray's own stop signal (`internals.TUNE_STOP_SIGNAL`, which Tune always handles;
its SIGINT handler is off: `internals.RAY_ENV`), so Ray saves its
experiment state one last time and `fit()` returns; the runner then saves the results marked
incomplete and raises `SweepInterrupted`. A second signal is not caught: it ends the process
the usual way, for a user who does not want to wait.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from autolearn.internals import TUNE_STOP_SIGNAL

log = logging.getLogger(__name__)

# Signals that end a sweep cleanly; those a platform lacks (SIGHUP on Windows) are left out.
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@dataclass
class Interruption:
    """What the guard saw: the first stop signal, or none."""

    signum: int | None = None
    previous: dict[int, Any] = field(default_factory=dict)

    @property
    def signame(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    def __bool__(self) -> bool:
        return self.signum is not None


@contextmanager
def interrupt_guard() -> Iterator[Interruption]:
    """Catch the stop signals around `fit()`; yields the `Interruption` the runner reads after.

    Signal handlers can only be installed on the main thread: elsewhere (a notebook's worker
    thread, a test's) this does nothing, and Ray keeps its own SIGINT handling.
    """
    seen = Interruption()
    stop_tune = getattr(signal, TUNE_STOP_SIGNAL, None)
    if threading.current_thread() is not threading.main_thread() or stop_tune is None:
        yield seen
        return

    def on_signal(signum: int, frame: Any) -> None:
        if seen:
            _restore(seen)  # a second signal: the default action, now
            signal.raise_signal(signum)
            return
        seen.signum = signum
        log.warning("%s received: stopping the sweep; finished trials are kept (send it again to "
                    "quit at once)", seen.signame)
        signal.raise_signal(stop_tune)  # Ray Tune's own "stop and save" signal

    seen.previous = {number: signal.signal(number, on_signal) for number in STOP_SIGNALS}
    # Until fit() installs Tune's handler, the stop signal must not take its default action (the
    # end of the process): a signal just before fit() is recorded, and the results say so.
    seen.previous[stop_tune] = signal.signal(stop_tune, lambda signum, frame: None)
    try:
        yield seen
    finally:
        _restore(seen)


def _restore(seen: Interruption) -> None:
    for number, handler in seen.previous.items():
        signal.signal(number, handler if handler is not None else signal.SIG_DFL)

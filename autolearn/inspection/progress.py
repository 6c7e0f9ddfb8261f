"""Live progress of a sweep: counts, best score so far and its config, elapsed time and time left.

`SweepProgress` is the state (fed by Ray Tune events, no I/O) and renders it as text;
`ProgressCallback` is the Ray Tune callback the CLI passes to `run_experiment(callbacks=...)`.
It writes only to the stream the CLI hands it: redrawn in place on a terminal, and as plain
lines (at most one per `interval` seconds, only when something changed) when output goes to a
file or a pipe, so logs stay readable.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from ray.tune import Callback

from autolearn.config.objectives import is_feasible
from autolearn.results.pareto import constrained_status
from autolearn.results.status import LABELS, RUNNING, classify
from autolearn.values import is_better, is_finite_number

# The counts line shows every status in the order of `LABELS`; these even at 0.
_ALWAYS = (RUNNING, "finished", "stopped", "diverged", "error")


def fmt_duration(seconds: float | None) -> str:
    """`1:05:03`, `4:07`: short and sortable by eye."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(round(max(seconds, 0.0)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _fmt_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass
class SweepProgress:
    """What the user wants to know mid-sweep, updated from Ray Tune's trial events."""

    metric: str
    mode: str = "max"
    expected_trials: int = 0
    max_epochs: int | None = None
    timeout: float | None = None                               # run.trial_timeout, to tell timeouts apart
    space_keys: list[str] = field(default_factory=list)
    constraints: tuple[Any, ...] = ()                          # `constraints:`: a report breaking one is no best
    clock: Callable[[], float] = time.monotonic
    status: dict[str, str] = field(default_factory=dict)      # trial id → running/finished/...
    epochs: dict[str, int] = field(default_factory=dict)
    best_score: float | None = None
    best_trial: str | None = None
    best_config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def start(self, trial_id: str) -> None:
        self.status[trial_id] = RUNNING

    def result(self, trial_id: str, config: Mapping[str, Any], result: Mapping[str, Any]) -> bool:
        """Record one report; True when it is a new best score."""
        self.status.setdefault(trial_id, RUNNING)
        self.epochs[trial_id] = int(result.get("training_iteration", 0) or 0)
        score = result.get(self.metric)
        if result.get("diverged") or not is_finite_number(score) or not is_feasible(result, self.constraints):
            return False
        better = is_better(score, self.best_score, self.mode)
        if better:
            self.best_score, self.best_trial = float(score), trial_id
            self.best_config = {k: config[k] for k in (self.space_keys or config) if k in config}
        return better

    def end(self, trial_id: str, last_result: Mapping[str, Any], error: bool = False) -> None:
        status = classify(last_result or {}, True if error else None, self.max_epochs, self.timeout)
        self.status[trial_id] = constrained_status(status, last_result or {}, self.constraints)

    def counts(self) -> dict[str, int]:
        out = {key: 0 for key in LABELS}
        for status in self.status.values():
            out[status] = out.get(status, 0) + 1
        return out

    def elapsed(self) -> float:
        return self.clock() - self.started

    def fraction_done(self) -> float | None:
        """Share of the sweep's work done: ended trials count whole, running ones by their epochs."""
        if self.expected_trials <= 0:
            return None
        done = 0.0
        for trial_id, status in self.status.items():
            if status != RUNNING:
                done += 1.0
            elif self.max_epochs:
                done += min(self.epochs.get(trial_id, 0) / self.max_epochs, 1.0)
        return min(done / max(self.expected_trials, len(self.status)), 1.0)

    def eta(self) -> float | None:
        """Seconds left, by extrapolating the pace so far (None before any work is done)."""
        fraction = self.fraction_done()
        if not fraction:
            return None
        return self.elapsed() * (1.0 - fraction) / fraction

    def lines(self) -> list[str]:
        """Two lines: the counts and times, then the best score and its config."""
        counts = self.counts()
        total = max(self.expected_trials, len(self.status))
        ended = sum(n for s, n in counts.items() if s != RUNNING)
        parts = [f"{LABELS[s]} {counts[s]}" for s in LABELS if s in _ALWAYS or counts[s]]
        times = f"elapsed {fmt_duration(self.elapsed())}"
        if ended < total:
            times += f", left ~{fmt_duration(self.eta())}"
        head = f"trials {ended}/{total or '?'} done: " + ", ".join(parts) + f" | {times}"
        if self.best_score is None:
            return [head, f"best {self.metric}: none yet"]
        config = ", ".join(f"{k}={_fmt_value(v)}" for k, v in self.best_config.items())
        return [head, f"best {self.metric}: {self.best_score:.4f} (trial {self.best_trial}) {config}".rstrip()]


class ProgressCallback(Callback):
    """Shows `SweepProgress` while Ray Tune runs: in place on a terminal, periodic lines otherwise."""

    def __init__(self, progress: SweepProgress, out: TextIO | None, *, tty: bool | None = None,
                 interval: float | None = None) -> None:
        self.progress = progress
        self.out = out
        self.tty = bool(out is not None and out.isatty()) if tty is None else tty
        self.interval = (0.5 if self.tty else 30.0) if interval is None else interval
        self._drawn = 0          # lines drawn last time (terminal mode), to redraw over them
        self._shown: list[str] | None = None
        self._last = -math.inf
        self._dirty = True

    def __getstate__(self) -> dict[str, Any]:
        """Ray pickles callbacks with the Tuner (tuner.pkl); a stream does not pickle, so a restored
        copy stays silent (a resumed sweep gets its own progress from the CLI)."""
        return {**self.__dict__, "out": None}

    def _show(self, force: bool = False) -> None:
        if self.out is None:
            return
        now = time.monotonic()
        if not force and (now - self._last < self.interval or not (self._dirty or self.tty)):
            return
        lines = self.progress.lines()
        if not self.tty and lines == self._shown:
            return
        if self.tty:
            up = f"\x1b[{self._drawn}F" if self._drawn else ""
            self.out.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
            self._drawn = len(lines)
        else:
            self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self._shown, self._last, self._dirty = lines, now, False

    def setup(self, stop: Any = None, num_samples: int | None = None, total_num_samples: int | None = None,
              **info: Any) -> None:
        self.progress.started = self.progress.clock()  # time left extrapolates the sweep, not Ray's start-up

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.progress.start(trial.trial_id)
        self._dirty = True
        self._show()

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self.progress.result(trial.trial_id, trial.config, result)
        self._dirty = True
        self._show()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.progress.end(trial.trial_id, trial.last_result)
        self._dirty = True
        self._show()

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.progress.end(trial.trial_id, trial.last_result, error=True)
        self._dirty = True
        self._show()

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        self._show()  # keeps the clock ticking on a terminal; a no-op otherwise unless something changed

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        self._dirty = True
        self._show(force=True)

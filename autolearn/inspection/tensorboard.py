"""TensorBoard from the driver: one run per trial, written as results arrive.

Writing on the driver, not in the trial, means every trial's events land in the experiment folder
whatever node it ran on, and user trainables get the same curves for free.
"""
from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ray.tune import Callback

from autolearn.results.pareto import constrained_status
from autolearn.results.status import classify
from autolearn.values import is_better, is_finite_number

# Reported name → TensorBoard tag: grouped so the loss and accuracy panels compare trials.
TAGS = {"train_loss": "train/loss", "val_loss": "val/loss", "val_accuracy": "val/accuracy",
        "train_accuracy": "train/accuracy", "lr": "lr"}
_SKIP = {"epoch", "training_iteration", "timestamp", "time_this_iter_s", "time_total_s", "time_since_restore",
         "iterations_since_restore", "pid", "done", "diverged", "node", "gpu_ids", "trial_id"}
EPOCHS_TAG = "epochs"  # written once per trial, at its end: how far it got (early stops show here)


def scalars(result: Mapping[str, Any]) -> dict[str, float]:
    """The numeric metrics of one report, under their TensorBoard tags."""
    out = {}
    for key, value in result.items():
        if key in _SKIP or isinstance(value, bool) or not isinstance(value, numbers.Real):
            continue
        out[TAGS.get(key, key)] = float(value)
    return out


def run_name(trial_id: str, config: Mapping[str, Any], keys: list[str]) -> str:
    """`00003_lr=0.0012,optimizer=adam`: the short id first so runs sort by trial."""
    short = trial_id.rsplit("_", 1)[-1]
    parts = []
    for key in keys[:4]:
        if key not in config:  # inactive in this trial (`when:`)
            continue
        value = config[key]
        if isinstance(value, float):
            value = f"{value:.3g}"
        parts.append(f"{key}={value}".replace("/", "-"))  # a slash would nest the run
    return "_".join([short, ",".join(parts)]) if parts else short


class TensorBoardCallback(Callback):
    """Writes every reported metric of every trial, and the HParams experiment and sessions.

    The experiment definition (domains from `space`, metrics from the first report) goes into the
    top-level run; each trial's session summaries are written when it ends, because only then is
    its status known (TensorBoard keeps the first summary of a tag, so it cannot be updated).
    """

    def __init__(self, logdir: str | Path, space: Mapping[str, Any] | list[str], metric: str = "val_accuracy",
                 mode: str = "max", max_epochs: int | None = None, timeout: float | None = None,
                 constraints: Sequence[Any] = (), upload_to: str | None = None) -> None:
        from autolearn.inspection.tb_upload import StagingUploader

        self.logdir = Path(logdir)
        self.constraints = tuple(constraints)  # `constraints:` of the spec: a trial that breaks one is infeasible
        # URI storage: `logdir` is a local staging folder, copied to `upload_to` as the sweep goes.
        self.uploader = StagingUploader(upload_to) if upload_to else None
        self.space: dict[str, Any] = dict(space) if isinstance(space, Mapping) else dict.fromkeys(space)
        self.space_keys = list(self.space)
        self.metric, self.mode, self.max_epochs, self.timeout = metric, mode, max_epochs, timeout
        self._writers: dict[str, Any] = {}
        self._best: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self._experiment_written = False

    def __getstate__(self) -> dict[str, Any]:
        """Ray pickles callbacks with the Tuner; open writers do not pickle (a restored copy reopens)."""
        return {**self.__dict__, "_writers": {}}

    @property
    def best_tag(self) -> str:
        return f"best/{self.metric}"

    def _writer(self, trial: Any) -> Any:
        from torch.utils.tensorboard import SummaryWriter

        if trial.trial_id not in self._writers:
            name = run_name(trial.trial_id, trial.config, self.space_keys)
            self._writers[trial.trial_id] = SummaryWriter(str(self.logdir / name), flush_secs=5)
        return self._writers[trial.trial_id]

    def _write_experiment(self, metric_tags: list[str]) -> None:
        from torch.utils.tensorboard import SummaryWriter

        from autolearn.inspection.hparams import experiment_summary

        first = TAGS.get(self.metric, self.metric)
        tags = [first, self.best_tag, *sorted(t for t in metric_tags if t != first), EPOCHS_TAG]
        with SummaryWriter(str(self.logdir), flush_secs=5) as writer:
            writer.file_writer.add_summary(experiment_summary(
                self.space, tags, f"autolearn sweep; metric {self.metric} ({self.mode})", time.time()))
        self._experiment_written = True

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._started.setdefault(trial.trial_id, time.time())

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        try:
            self._write_result(trial, result)
        except OSError as err:  # a full or broken disk: the curves suffer, the sweep must not
            _write_failed(self.logdir, err)

    def _write_result(self, trial: Any, result: dict) -> None:
        values = scalars(result)
        if not self._experiment_written:
            self._write_experiment(list(values))
        writer = self._writer(trial)
        step = int(result.get("training_iteration", 0))
        for tag, value in values.items():
            if math.isfinite(value):
                writer.add_scalar(tag, value, step)
        score = result.get(self.metric)
        if is_finite_number(score):
            best = self._best.get(trial.trial_id)
            if is_better(score, best, self.mode):
                self._best[trial.trial_id] = best = float(score)
            writer.add_scalar(self.best_tag, best, step)

    def _finish(self, trial: Any, error: bool) -> None:
        """Write the trial's HParams session (values, status, epochs) and close its run."""
        from autolearn.inspection.hparams import session_end_summary, session_start_summary

        last = dict(trial.last_result or {})
        status = classify(last, True if error else None, self.max_epochs, self.timeout)
        status = constrained_status(status, last, getattr(self, "constraints", ()))  # getattr: pickled before it
        if not self._experiment_written:
            self._write_experiment(list(scalars(last)))
        writer = self._writer(trial)
        step = int(last.get("training_iteration", 0) or 0)
        writer.add_scalar(EPOCHS_TAG, step, step)
        now = time.time()
        start = self._started.get(trial.trial_id, now)
        writer.file_writer.add_summary(session_start_summary(
            trial.trial_id, trial.config, self.space, status, start))
        writer.file_writer.add_summary(session_end_summary(status, now))
        self._close(trial)

    def _close(self, trial: Any) -> None:
        writer = self._writers.pop(trial.trial_id, None)
        if writer is not None:
            writer.close()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._end(trial, error=False)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._end(trial, error=True)

    def _end(self, trial: Any, error: bool) -> None:
        try:
            self._finish(trial, error)
        except OSError as err:
            _write_failed(self.logdir, err)
            self._writers.pop(trial.trial_id, None)
        self._upload_soon()

    def _upload_soon(self) -> None:
        """A run is complete: upload it now, or at the first step once the interval has passed."""
        uploader = getattr(self, "uploader", None)  # absent from a callback pickled before it existed
        if uploader is not None:
            uploader.pending = True
            uploader.maybe_upload(self.logdir)

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        uploader = getattr(self, "uploader", None)
        if uploader is not None:
            uploader.maybe_upload(self.logdir)

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def _write_failed(logdir: Path, err: OSError) -> None:
    import logging

    logging.getLogger(__name__).warning("could not write TensorBoard events in %s (%s)", logdir, err)

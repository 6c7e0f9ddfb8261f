"""What a sweep leaves behind: a table of trials, the best one, its test score, files on disk.

`results.csv` has one row per trial with plain column names (`trial_id`, `status`, `epochs`, one
column per searched hyperparameter, each reported metric) and `summary.json` the headline. Both
are written atomically, so a crash mid-write leaves the previous version readable.
"""
from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autolearn.results import storage
from autolearn.results.status import STATUSES, classify

_INTERNAL = {"timestamp", "time_this_iter_s", "time_since_restore", "iterations_since_restore", "pid",
             "hostname", "node_ip", "date", "done", "trial_id", "config", "checkpoint_dir_name",
             "should_checkpoint", "experiment_tag"}




def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class TrialRow:
    trial_id: str
    status: str
    epochs: int
    config: dict[str, Any]
    metrics: dict[str, Any]          # the last report
    best_score: float | None         # the best value of the sweep metric over the trial's reports
    best_epoch: int | None
    error: str = ""
    path: str = ""
    retries: int = 0                 # times Ray restarted the trial after a failure (from its checkpoint)

    def as_flat(self, metric: str) -> dict[str, Any]:
        return {"trial_id": self.trial_id, "status": self.status, "epochs": self.epochs, **self.config,
                **self.metrics, f"best_{metric}": self.best_score, "best_epoch": self.best_epoch,
                "retries": self.retries, "error": self.error}


@dataclass
class SweepResult:
    """The outcome of one sweep; `best_config` and `test_scores` answer the usual question."""

    name: str
    experiment_dir: str
    metric: str
    mode: str
    space_keys: list[str]
    trials: list[TrialRow]
    wall_time_s: float
    best_trial_id: str | None = None
    test_scores: dict[str, float] = field(default_factory=dict)
    best_checkpoint_path: str | None = None
    strategy: str = ""
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. cv and auto-resolved values, into summary.json

    @property
    def best(self) -> TrialRow | None:
        return next((t for t in self.trials if t.trial_id == self.best_trial_id), None)

    @property
    def best_config(self) -> dict[str, Any] | None:
        return dict(self.best.config) if self.best else None

    @property
    def best_score(self) -> float | None:
        return self.best.best_score if self.best else None

    def status_counts(self) -> dict[str, int]:
        counts = {s: 0 for s in STATUSES}
        for t in self.trials:
            counts[t.status] = counts.get(t.status, 0) + 1
        return counts

    def table(self) -> list[dict[str, Any]]:
        """One flat dict per trial: the rows of `results.csv`."""
        return [t.as_flat(self.metric) for t in self.trials]

    def to_csv(self) -> str:
        rows = self.table()
        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        return out.getvalue()

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name, "experiment_dir": self.experiment_dir, "strategy": self.strategy,
            "metric": self.metric, "mode": self.mode,
            "best_trial_id": self.best_trial_id, "best_config": self.best_config,
            f"best_{self.metric}": self.best_score, "best_score": self.best_score,
            "best_checkpoint": self.best_checkpoint_path,
            **self.test_scores,
            "wall_time_s": round(self.wall_time_s, 3), "trials": len(self.trials),
            "status_counts": self.status_counts(),
            "tensorboard": f"tensorboard --logdir {self.experiment_dir}",
            **self.extras,
        }

    def save(self, directory: str | Path | None = None) -> None:
        """Write `results.csv` and `summary.json` to a folder, or a URI (`s3://...`) via pyarrow."""
        target = str(directory or self.experiment_dir)
        storage.write_text(target, "results.csv", self.to_csv())
        storage.write_text(target, "summary.json", json.dumps(self.summary(), indent=2, default=str) + "\n")


def pick_best(trials: Sequence[TrialRow], mode: str) -> TrialRow | None:
    """The trial with the best score over its epochs, ignoring errored and diverged ones."""
    usable = [t for t in trials if t.status not in ("error", "diverged") and _finite(t.best_score)]
    if not usable:
        return None
    return (max if mode == "max" else min)(usable, key=lambda t: t.best_score)




def trial_row(result: Any, metric: str, mode: str, space_keys: list[str], max_epochs: int | None,
              timeout: float | None = None) -> TrialRow:
    """One Ray Tune `Result` → a row: config narrowed to the searched keys, metrics made plain."""
    metrics = {k: _plain(v) for k, v in (result.metrics or {}).items()}
    config = {k: _plain(v) for k, v in (result.config or {}).items() if k in space_keys}
    trial_id = str(metrics.get("trial_id") or Path(result.path).name)
    best, best_epoch = None, None
    frame = result.metrics_dataframe
    if frame is not None and metric in frame:
        series = frame[metric].astype(float)
        series = series[series.map(math.isfinite)]
        if len(series):
            pos = series.idxmax() if mode == "max" else series.idxmin()
            best = float(series[pos])
            if "training_iteration" in frame:
                best_epoch = int(frame.loc[pos, "training_iteration"])
    elif _finite(metrics.get(metric)):
        best = float(metrics[metric])
    error = result.error
    text = ""
    if error is not None:
        text = f"{type(error).__name__}: {str(error).strip().splitlines()[-1] if str(error).strip() else ''}"
    shown = {k: v for k, v in metrics.items() if k not in _INTERNAL and not k.startswith("config/")}
    return TrialRow(trial_id=trial_id, status=classify(metrics, error, max_epochs, timeout),
                    epochs=int(metrics.get("training_iteration", 0) or 0), config=config, metrics=shown,
                    best_score=best, best_epoch=best_epoch, error=text, path=str(result.path))

"""What a sweep leaves behind: a table of trials, the best one, its test score, files on disk.

`results.csv` has one row per trial with plain column names (`trial_id`, `status`, `epochs`, one
column per searched hyperparameter, each reported metric) and `summary.json` the headline. Both
are written atomically, so a crash mid-write leaves the previous version readable.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autolearn.results.status import STATUSES, classify, is_scored
from autolearn.values import best_index, is_finite_number, plain

# Ray's bookkeeping in every report: not metrics a person compares trials by.
_INTERNAL = {"timestamp", "time_this_iter_s", "time_since_restore", "iterations_since_restore", "pid",
             "hostname", "node_ip", "date", "done", "trial_id", "config", "checkpoint_dir_name",
             "should_checkpoint", "experiment_tag"}
# A population sweep (pbt, pb2) reports the config in force at each epoch under this prefix
# (`inspection/hparam_schedule.py`): `hp/lr` is the learning rate the trial trained that epoch with.
HP_PREFIX = "hp/"
SCHEDULE_FILE = "hparam_schedule.jsonl"  # one line per report: {"trial_id", "epoch", name: value, ...}


@dataclass
class TrialRow:
    """One trial as `results.csv` shows it: how it ended, how far it got, its config and scores."""

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
    schedule: list[dict[str, Any]] = field(default_factory=list)  # pbt/pb2: {epoch, name: value} per report

    def as_flat(self, metric: str) -> dict[str, Any]:
        """The row as one flat dict; a hyperparameter the trial also reports (`lr`, which a schedule
        changes) keeps its configured value."""
        reported = {k: v for k, v in self.metrics.items() if k not in self.config}
        return {"trial_id": self.trial_id, "status": self.status, "epochs": self.epochs, **self.config,
                **reported, f"best_{metric}": self.best_score, "best_epoch": self.best_epoch,
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
    complete: bool = True            # False: interrupted (a signal); `--resume` finishes it
    interrupted_by: str = ""         # the signal's name, e.g. "SIGTERM"
    test_error: str = ""             # why the test-split evaluation failed (results are kept anyway)
    # Several objectives (`metric:` as a list): each {name, mode}, the primary first; the ids of the
    # Pareto front (`pareto.py`) and each member's test-split scores.
    objectives: list[dict[str, str]] = field(default_factory=list)
    pareto_ids: list[str] = field(default_factory=list)
    pareto_test_scores: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def best(self) -> TrialRow | None:
        return next((t for t in self.trials if t.trial_id == self.best_trial_id), None)

    @property
    def best_config(self) -> dict[str, Any] | None:
        return dict(self.best.config) if self.best else None

    @property
    def best_score(self) -> float | None:
        return self.best.best_score if self.best else None

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def pareto(self) -> list[TrialRow]:
        """The Pareto front's rows (several objectives; empty otherwise), in trial order."""
        front = set(self.pareto_ids)
        return [t for t in self.trials if t.trial_id in front]

    @property
    def hparam_schedule(self) -> dict[str, list[dict[str, Any]]]:
        """Trial id → the hyperparameters in force at each reported epoch (`[{"epoch": 1, "lr": ..}, ..]`).

        A population sweep (pbt, pb2) changes a trial's config as it trains, so its final `config`
        is only the last step of a schedule; this is the whole schedule. Empty for other sweeps.
        """
        return {t.trial_id: [dict(step) for step in t.schedule] for t in self.trials if t.schedule}

    def status_counts(self) -> dict[str, int]:
        counts = {s: 0 for s in STATUSES}
        for t in self.trials:
            counts[t.status] = counts.get(t.status, 0) + 1
        return counts

    def table(self) -> list[dict[str, Any]]:
        """One flat dict per trial: the rows of `results.csv`."""
        rows = [t.as_flat(self.metric) for t in self.trials]
        if self.multi_objective:
            front = set(self.pareto_ids)
            for row in rows:
                row["pareto"] = row["trial_id"] in front
        return rows

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
            "complete": self.complete,
            **({"interrupted_by": self.interrupted_by} if self.interrupted_by else {}),
            **({"test_error": self.test_error} if self.test_error else {}),
            **self._pareto_summary(),
        }

    def _pareto_summary(self) -> dict[str, Any]:
        if not self.multi_objective:
            return {}
        from autolearn.config.sections import MetricSpec
        from autolearn.results.pareto import front_summary

        specs = [MetricSpec(o["name"], o["mode"]) for o in self.objectives]  # type: ignore[arg-type]
        front = front_summary(self.pareto, specs)
        for member in front:
            member["test_scores"] = self.pareto_test_scores.get(member["trial_id"], {})
        return {"objectives": self.objectives, "pareto_front": front}

    def save(self, directory: str | Path | None = None) -> None:
        """Write `results.csv` and `summary.json` as one unit (`commit.py`) to a folder or a URI."""
        from autolearn.results.commit import write_together

        write_together(str(directory or self.experiment_dir), {
            "results.csv": self.to_csv(),
            "summary.json": json.dumps(self.summary(), indent=2, default=str) + "\n"})


def pick_best(trials: Sequence[TrialRow], mode: str) -> TrialRow | None:
    """The trial with the best score over its epochs, ignoring errored and diverged ones."""
    usable = [t for t in trials if is_scored(t.status) and is_finite_number(t.best_score)]
    at = best_index([float(t.best_score) for t in usable if t.best_score is not None], mode)
    return None if at is None else usable[at]


def build_row(trial_id: str, last: Mapping[str, Any], config: Mapping[str, Any], reports: Any, error: Any,
              metric: str, mode: str, space_keys: Sequence[str], max_epochs: int | None,
              timeout: float | None = None, path: str = "") -> TrialRow:
    """One trial's row from what any source knows of it: its last report, its config, its reports
    so far (a DataFrame, or None) and its error (an exception, the text of error.txt, or None).

    Both the finished sweep (Ray's `Result`s) and the report of a running one (Ray's trial folders)
    build their rows here, so a trial reads the same in `results.csv` and in the report.
    """
    metrics = {k: plain(v) for k, v in last.items()}
    best, best_epoch = _best_report(reports, metric, mode)
    if best is None and is_finite_number(metrics.get(metric)):
        best = float(metrics[metric])
    shown = {k: v for k, v in metrics.items() if k not in _INTERNAL and not k.startswith("config/")}
    return TrialRow(trial_id=trial_id, status=classify(metrics, error, max_epochs, timeout),
                    epochs=int(metrics.get("training_iteration", 0) or 0),
                    config={k: plain(v) for k, v in config.items() if k in space_keys}, metrics=shown,
                    best_score=best, best_epoch=best_epoch, error=_error_text(error), path=path)


def attach_schedules(rows: Sequence[TrialRow], directory: str | Path) -> None:
    """A population sweep's per-epoch hyperparameters (`inspection/hparam_schedule.py`) onto its rows."""
    path = Path(directory) / SCHEDULE_FILE
    if path.is_file():
        schedules = read_schedules(path.read_text())
        for row in rows:
            row.schedule = schedules.get(row.trial_id, [])


def read_schedules(text: str) -> dict[str, list[dict[str, Any]]]:
    """Trial id → its schedule, from `hparam_schedule.jsonl`: one step per epoch, in epoch order.

    An exploit restarts a trial at its donor's epoch, so an epoch can be reported twice; the later
    report wins: the schedule is what the trial's final weights trained with from the last exploit
    on (before it, the weights were the donor's, trained as the donor's own schedule says).
    """
    steps: dict[str, dict[int, dict[str, Any]]] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        trial_id = str(record.pop("trial_id", ""))
        epoch = int(record.get("epoch", 0))
        steps.setdefault(trial_id, {})[epoch] = record
    return {tid: [by_epoch[e] for e in sorted(by_epoch)] for tid, by_epoch in steps.items()}


def trial_row(result: Any, metric: str, mode: str, space_keys: Sequence[str], max_epochs: int | None,
              timeout: float | None = None) -> TrialRow:
    """One Ray Tune `Result` → a row: config narrowed to the searched keys, metrics made plain."""
    last = result.metrics or {}
    trial_id = str(last.get("trial_id") or Path(result.path).name)
    return build_row(trial_id, last, result.config or {}, result.metrics_dataframe, result.error, metric, mode,
                     space_keys, max_epochs, timeout, path=str(result.path))


def _best_report(reports: Any, metric: str, mode: str) -> tuple[float | None, int | None]:
    """The best finite value of `metric` over a trial's reports, and the epoch it came at."""
    if reports is None or metric not in reports:
        return None, None
    import pandas as pd

    scores = pd.to_numeric(reports[metric], errors="coerce")
    scores = scores[scores.map(is_finite_number)]
    at = best_index(scores.tolist(), mode)
    if at is None:
        return None, None
    row = scores.index[at]
    epoch = int(reports.loc[row, "training_iteration"]) if "training_iteration" in reports else None
    return float(scores[row]), epoch


def _error_text(error: Any) -> str:
    """An error's last line (`ValueError: ...`): enough for a table cell; error.txt has the rest."""
    if error is None:
        return ""
    text = str(error).strip()
    last = text.splitlines()[-1] if text else ""
    return last if isinstance(error, str) else f"{type(error).__name__}: {last}"

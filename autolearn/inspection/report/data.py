"""Read what a sweep left on disk, finished or still running, into one `SweepData`.

The trial table comes from `results.csv` when the sweep has finished (it knows each trial's
status); while it runs, from Ray's trial folders (`params.json` + `progress.csv`/`result.json`),
where a trial that has not reached its epoch budget is `running`. Learning curves always come
from the trial folders, so they are as fresh as Ray's own files.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from autolearn.errors import AutolearnError, ConfigError
from autolearn.results.status import RUNNING, UNSCORED
from autolearn.results.sweep import build_row
from autolearn.values import best_index, is_finite_number

log = logging.getLogger(__name__)


@dataclass
class SweepData:
    """Everything the report draws: the trial table, each trial's curve, and how to read them."""

    directory: Path
    metric: str
    mode: str
    space: dict[str, Any]              # name → Param (None when the spec could not be read)
    max_epochs: int | None
    table: pd.DataFrame                # one row per trial: trial_id, status, epochs, hparams, score, start_s, end_s
    curves: dict[str, pd.DataFrame]    # trial id → its reports (training_iteration, metric, time_total_s, ...)
    finished: bool                     # results.csv exists: the sweep has ended
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def score_column(self) -> str:
        return f"best_{self.metric}"

    @property
    def hparams(self) -> list[str]:
        return [k for k in self.space if k in self.table.columns]

    def usable(self) -> pd.DataFrame:
        """Trials with a finite score (not errored, not diverged): what plots of scores use."""
        t = self.table
        ok = t[self.score_column].map(is_finite_number)
        return t[ok & ~t["status"].isin(UNSCORED)]

    def best_row(self) -> pd.Series | None:
        """The best usable trial's row (None before any trial has a score)."""
        usable = self.usable()
        at = best_index(usable[self.score_column].astype(float).tolist(), self.mode)
        return None if at is None else usable.iloc[at]


def _read_spec(directory: Path) -> tuple[str, str, dict[str, Any], int | None, float | None]:
    """metric, mode, space, epoch budget and trial time limit from the saved spec (or summary.json)."""
    from autolearn.config.spec import load_spec

    spec = directory / "spec.yaml"
    if spec.is_file():
        try:
            exp = load_spec(spec)
            return exp.metric.name, exp.metric.mode, dict(exp.space), exp.max_epochs, exp.run.trial_timeout
        except AutolearnError as err:
            log.warning("could not read %s (%s); reading what the trials report", spec, err)
    summary = _json(directory / "summary.json") or {}
    if "metric" not in summary:
        raise ConfigError("experiment_dir", f"{str(directory)!r} has neither a readable spec.yaml nor a "
                          "summary.json; give the folder of one experiment (storage/NAME)")
    return summary["metric"], summary.get("mode", "max"), {}, None, None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_curve(trial_dir: Path) -> pd.DataFrame:
    """A trial's reports, one row per epoch: `progress.csv`, or `result.json` (one JSON per line)."""
    progress = trial_dir / "progress.csv"
    if progress.is_file() and progress.stat().st_size:
        try:
            return pd.read_csv(progress, float_precision="round_trip")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            log.debug("unreadable %s; trying result.json", progress)
    rows = []
    result = trial_dir / "result.json"
    if result.is_file():
        for line in result.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue  # a line being written right now
    return pd.DataFrame(rows)


def _trial_dirs(directory: Path) -> dict[str, Path]:
    """Trial id → Ray's trial folder (folders hold params.json; the id is in their reports)."""
    found: dict[str, Path] = {}
    for params in sorted(directory.glob("*/params.json")):
        curve = read_curve(params.parent)
        trial_id = str(curve["trial_id"].iloc[-1]) if "trial_id" in curve and len(curve) else None
        found[trial_id or params.parent.name] = params.parent
    return found


def _row_from_folder(trial_id: str, trial_dir: Path, curve: pd.DataFrame, metric: str, mode: str,
                     space: dict[str, Any], max_epochs: int | None, timeout: float | None) -> dict[str, Any]:
    """A `results.csv` row for a trial of a sweep that has not written results.csv yet."""
    config = _json(trial_dir / "params.json") or {}
    last = curve.iloc[-1].to_dict() if len(curve) else {}
    error_file = trial_dir / "error.txt"
    error = error_file.read_text(errors="replace") if error_file.is_file() else None
    row = build_row(trial_id, last, config, curve, error, metric, mode, list(space) or list(config),
                    max_epochs, timeout, path=str(trial_dir))
    if row.status == "stopped" or (row.status == "finished" and max_epochs is None and not last.get("done")):
        row.status = RUNNING  # not at its budget yet: while the sweep runs, it may go on
    return row.as_flat(metric)


def _times(curve: pd.DataFrame) -> tuple[float | None, float | None]:
    """Wall-clock start and end of a trial (seconds since the epoch), from its reports."""
    if curve.empty or "timestamp" not in curve or "time_total_s" not in curve:
        return None, None
    first = curve.iloc[0]
    start = float(first["timestamp"]) - float(first["time_total_s"])
    return start, float(curve["timestamp"].iloc[-1])


def load_sweep(directory: str | Path) -> SweepData:
    """Read an experiment folder (`storage/NAME`) into `SweepData`; works mid-sweep."""
    directory = Path(directory).expanduser().resolve()
    if not directory.is_dir():
        raise ConfigError("experiment_dir", f"no experiment folder at {str(directory)!r}")
    metric, mode, space, max_epochs, timeout = _read_spec(directory)
    folders = _trial_dirs(directory)
    curves = {tid: read_curve(path) for tid, path in folders.items()}
    results = directory / "results.csv"
    if results.is_file():
        table = pd.read_csv(results, dtype={"trial_id": str}, float_precision="round_trip")
    else:
        table = pd.DataFrame([_row_from_folder(tid, folders[tid], curves[tid], metric, mode, space, max_epochs,
                                               timeout) for tid in folders])
    if table.empty:
        raise ConfigError("experiment_dir", f"{str(directory)!r} holds no trial yet (no results.csv and "
                          "no Ray trial folders with params.json)")
    if not space:  # the spec was unreadable: every params.json key is a hyperparameter
        space = {k: None for k in (_json(next(iter(folders.values())) / "params.json") or {})} if folders else {}
    table = table.sort_values("trial_id", kind="stable").reset_index(drop=True)
    times = [_times(curves.get(tid, pd.DataFrame())) for tid in table["trial_id"]]
    table["start_s"] = [t[0] for t in times]
    table["end_s"] = [t[1] for t in times]
    return SweepData(directory=directory, metric=metric, mode=mode, space=space, max_epochs=max_epochs,
                     table=table, curves=curves, finished=results.is_file(),
                     summary=_json(directory / "summary.json") or {})

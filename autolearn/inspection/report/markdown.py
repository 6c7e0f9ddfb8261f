"""`report.md`: the plots embedded with the best configuration and the trial table."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from autolearn.inspection.report.data import SweepData
from autolearn.inspection.report.importance import Importance
from autolearn.results.status import label
from autolearn.values import is_finite_number, plain

SECTIONS = (  # (file, heading, one line on how to read it)
    ("best_so_far.png", "Best score so far",
     "Left: each trial's best score (grey) and the best so far, in trial order. Right: the best so far "
     "against wall-clock time."),
    ("learning_curves.png", "Learning curves",
     "Every trial's metric per epoch; the end marker says how it ended (x: stopped early by the scheduler)."),
    ("parallel_coordinates.png", "Parallel coordinates",
     "One line per trial through its hyperparameters, coloured by score (best drawn on top)."),
    ("score_vs_params.png", "Score against each hyperparameter", "Each dot is one trial's best score."),
    ("pareto_front.png", "Pareto front",
     "The primary objective against each other one: blue trials are on the front (no other trial is at least "
     "as good on every objective and better on one), red crosses broke a constraint."),
    ("hparam_schedule.png", "Hyperparameter schedule",
     "Population-based training changed these while the trials trained: each trial's value at each epoch "
     "(after an exploit, from the epoch of the donor's checkpoint on)."),
)


def fmt(value: Any) -> str:
    """A table cell: 4 significant digits for floats, empty for missing, `|` escaped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return lines


def _counts(data: SweepData) -> str:
    counts = data.table["status"].value_counts()
    return ", ".join(f"{n} {label(s)}" for s, n in counts.items())


def _best(data: SweepData) -> list[str]:
    best = data.best_row()
    if best is None:
        return ["No trial has produced a usable score yet."]
    epoch = best.get("best_epoch")
    at = f" at epoch {int(epoch)}" if is_finite_number(epoch) else ""
    lines = [f"Trial `{best['trial_id']}` reached {data.metric} = **{best[data.score_column]:.4f}**{at}.", ""]
    cv = data.summary.get("cv")
    if isinstance(cv, dict):  # task.cv / repeats (training/cv.py): the score is a mean over fits
        std = best.get(f"{data.metric}_std")
        spread = f" (± {std:.4f} at the last epoch)" if is_finite_number(std) else ""
        lines[-1:-1] = [f"The score is the mean of {cv.get('fits_per_trial')} fits ({cv.get('folds')} folds × "
                        f"{cv.get('repeats')} repeats){spread}; the test score is of the best config retrained on "
                        f"{cv.get('retrained_on')} for {cv.get('retrain_epochs')} epochs."]
    lines += _table(["hyperparameter", "value"], [[k, plain(best[k])] for k in data.hparams])
    tests = {k: v for k, v in data.summary.items() if k.startswith("test_") and is_finite_number(v)}
    if tests and data.summary.get("best_trial_id") == best["trial_id"]:
        lines += ["", "On the held-out test split: " + ", ".join(f"{k} = {v:.4f}" for k, v in tests.items()) + "."]
    return lines


def best_config(data: SweepData) -> dict[str, Any] | None:
    """The best trial's hyperparameters as plain values (None before any trial has a score); one
    that was inactive (`when:`), blank in results.csv, is left out as it was of the trial's config."""
    best = data.best_row()
    return None if best is None else {k: plain(best[k]) for k in data.hparams if not _blank(best[k])}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def render(data: SweepData, images: Mapping[str, str], importance: Importance) -> str:
    """The whole `report.md`; `images` maps each PNG's file name to its path relative to the report."""
    state = "finished" if data.finished else "still running (or interrupted): this is what it has written so far"
    out = [f"# Sweep report: {data.directory.name}", "",
           f"Metric `{data.metric}` ({data.mode}); {len(data.table)} trials: {_counts(data)}. Sweep {state}.", "",
           "## Best configuration", "", *_best(data), ""]
    for file, heading, note in SECTIONS:
        if file in images:
            out += [f"## {heading}", "", note, "", f"![{heading}]({images[file]})", ""]
    out += ["## Hyperparameter importance", ""]
    if "importance.png" in images:
        out += [f"![hyperparameter importance]({images['importance.png']})", ""]
        out += _table(["hyperparameter", "importance"],
                      [[k, v] for k, v in sorted(importance.values.items(), key=lambda kv: -kv[1])]) + [""]
    out += [f"*Method:* {importance.method}", "", "## Trials", ""]
    others = [o["name"] for o in (data.summary.get("objectives") or [])[1:]]  # several objectives
    columns = ["trial_id", "status", "epochs", *data.hparams, data.metric, data.score_column, *others, "pareto"]
    columns = [c for c in columns if c in data.table.columns]
    out += _table(columns, data.table[columns].values.tolist())
    return "\n".join(out) + "\n"

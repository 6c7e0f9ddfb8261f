"""A sweep report: PNG plots and `report.md`, from an experiment folder (finished or running).

`write_report(EXPERIMENT_DIR)` is what `autolearn report` runs. (`autolearn.report()`, which
trainables call to send metrics, lives in `training/session.py`: a different thing.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autolearn.inspection.report.data import SweepData, load_sweep
from autolearn.inspection.report.front import has_front, plot_pareto_front
from autolearn.inspection.report.importance import Importance, hyperparameter_importance
from autolearn.inspection.report.markdown import best_config, render
from autolearn.inspection.report.plots import (
    plot_best_so_far,
    plot_importance,
    plot_learning_curves,
    plot_parallel_coordinates,
    plot_score_vs_params,
)
from autolearn.inspection.report.schedule import hparam_schedules, plot_hparam_schedule

__all__ = ["Report", "SweepData", "load_sweep", "write_report", "hyperparameter_importance"]

# File name → the function that draws it from the sweep's data (a registry: one line per plot).
PLOTS = {
    "best_so_far.png": plot_best_so_far,
    "learning_curves.png": plot_learning_curves,
    "parallel_coordinates.png": plot_parallel_coordinates,
    "score_vs_params.png": plot_score_vs_params,
    "pareto_front.png": plot_pareto_front,
}
# Plots that only some sweeps have: the file name → whether this sweep has it.
APPLIES = {"pareto_front.png": has_front}


@dataclass
class Report:
    """What `write_report` made: the files, and the data each plot was drawn from (for checks)."""

    markdown: Path
    images: dict[str, Path]
    plotted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    importance: Importance | None = None
    best_config: dict[str, Any] | None = None
    data: SweepData | None = None


def write_report(experiment_dir: str | Path, out_dir: str | Path | None = None) -> Report:
    """Draw every plot and write `report.md` into `out_dir` (default: `EXPERIMENT_DIR/report`)."""
    data = load_sweep(experiment_dir)
    out = Path(out_dir) if out_dir is not None else data.directory / "report"
    out.mkdir(parents=True, exist_ok=True)
    images, plotted = {}, {}
    has_scores = not data.usable().empty
    for name, plot in PLOTS.items():
        if name in APPLIES and not APPLIES[name](data):
            continue
        if has_scores or name == "learning_curves.png":
            plotted[name] = plot(data, out / name)
            images[name] = out / name
    schedules = hparam_schedules(data)  # pbt/pb2: each trial's hyperparameters over epochs
    if schedules:
        plotted["hparam_schedule.png"] = plot_hparam_schedule(data, schedules, out / "hparam_schedule.png")
        images["hparam_schedule.png"] = out / "hparam_schedule.png"
    importance = hyperparameter_importance(data)
    if importance.values:
        plotted["importance.png"] = plot_importance(importance.values, importance.method, out / "importance.png")
        images["importance.png"] = out / "importance.png"
    markdown = out / "report.md"
    markdown.write_text(render(data, {k: p.name for k, p in images.items()}, importance))
    return Report(markdown=markdown, images=images, plotted=plotted, importance=importance,
                  best_config=best_config(data), data=data)

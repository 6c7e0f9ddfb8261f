"""The report's Pareto front: the primary objective against each other objective.

Drawn from results.csv (its `pareto` column) and summary.json (`objectives`), so only a finished
sweep with several objectives has one. One panel per secondary objective: every comparable trial
grey, infeasible ones as red crosses, front members blue and joined in order of the secondary
objective (with two objectives, the line is the front itself; with more, a projection of it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from autolearn.inspection.report.data import SweepData
from autolearn.inspection.report.plots import FIGSIZE, _pyplot, _save
from autolearn.values import is_finite_number


def has_front(data: SweepData) -> bool:
    return len(data.summary.get("objectives") or []) > 1 and "pareto" in data.table.columns


def _column(data: SweepData, name: str) -> str:
    """The primary objective is ranked by its best score; the others by their last report."""
    return data.score_column if name == data.metric else name


def _points(table: pd.DataFrame, x: str, y: str) -> tuple[list[float], list[float]]:
    ok = table[x].map(is_finite_number) & table[y].map(is_finite_number)
    return table.loc[ok, x].astype(float).tolist(), table.loc[ok, y].astype(float).tolist()


def plot_pareto_front(data: SweepData, path: Path) -> list[dict[str, Any]]:
    plt = _pyplot()
    objectives = data.summary["objectives"]
    primary, others = objectives[0], objectives[1:]
    y = _column(data, primary["name"])
    fig, axes = plt.subplots(1, len(others), figsize=(FIGSIZE[0] * (1 + 0.4 * (len(others) - 1)), FIGSIZE[1]),
                             squeeze=False)
    on_front = data.table["pareto"].astype(str).str.lower() == "true"
    for ax, other in zip(axes[0], others):
        x = _column(data, other["name"])
        if x not in data.table:
            continue
        rest = data.table[~on_front]
        feasible, infeasible = rest[rest["status"] != "infeasible"], rest[rest["status"] == "infeasible"]
        ax.scatter(*_points(feasible, x, y), s=16, color="0.6", label="other trials")
        if not infeasible.empty:
            ax.scatter(*_points(infeasible, x, y), s=22, color="tab:red", marker="x", label="infeasible")
        fx, fy = _points(data.table[on_front], x, y)
        order = sorted(range(len(fx)), key=lambda i: fx[i])
        ax.plot([fx[i] for i in order], [fy[i] for i in order], "o-", color="tab:blue", drawstyle="steps-post"
                if len(others) == 1 else "default", markersize=5, label="Pareto front")
        ax.set(title=f"{primary['name']} ({primary['mode']}) vs {other['name']} ({other['mode']})",
               xlabel=other["name"], ylabel=primary["name"])
        if other["name"] in ("n_params",) and fx and min(fx) > 0:
            ax.set_xscale("log")
        ax.legend(loc="best", fontsize=8)
    return _save(fig, path)

"""Tables and the plot of benchmarks/multifidelity.py: regret at equal epochs and equal simulated time.

A run is the sweep's anytime record: cumulative epochs, cumulative simulated seconds and the best
validation accuracy so far, one entry per result. Its regret at a budget x is the task's reference
minus the best seen by the last result within x (infinite before the first result).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

FRACTIONS = (1 / 3, 1.0)


def regret_at(run: dict, axis: str, x: float, reference: float) -> float:
    i = int(np.searchsorted(np.asarray(run[axis]), x, side="right")) - 1
    return math.inf if i < 0 else reference - run["best"][i]


def time_budget(by_method: dict) -> float:
    """The simulated time every run of a task reached: the shortest run's total."""
    return min(run["sim_time"][-1] for runs in by_method.values() for run in runs.values() if run["sim_time"])


def medians(saved: dict, axis: str, fraction: float, full_epochs: int) -> dict[str, dict[str, float]]:
    """task → method → median regret over seeds at `fraction` of the budget along `axis`."""
    out: dict[str, dict[str, float]] = {}
    for task, by_method in saved["runs"].items():
        full = full_epochs if axis == "epochs" else time_budget(by_method)
        for method, runs in by_method.items():
            values = [regret_at(r, axis, fraction * full, saved["reference"][task]) for r in runs.values()]
            out.setdefault(task, {})[method] = float(np.median(values)) if values else math.nan
    return out


def summarise(saved: dict, full_epochs: int) -> str:
    if not saved.get("runs"):
        return "no runs saved yet"
    methods = list(dict.fromkeys(m for by in saved["runs"].values() for m in by))  # a partial run lacks some
    columns = [(axis, f) for axis in ("epochs", "sim_time") for f in FRACTIONS]
    table = {c: medians(saved, c[0], c[1], full_epochs) for c in columns}
    names = {"epochs": "epochs", "sim_time": "sim. time"}
    head = " | ".join(f"{names[a]} {'1/3' if f < 1 else 'full'}" for a, f in columns)
    lines = [f"Median over {len(saved['runs'])} tasks of the per-task median regret over seeds "
             "(percent points of validation accuracy; lower is better); `bohb wins`: tasks where bohb's "
             "median regret at 1/3 of the epochs is lower than the method's.", "",
             f"| method | {head} | bohb wins (1/3 epochs) |", "|---" * (len(columns) + 2) + "|"]
    third = table[("epochs", FRACTIONS[0])]
    for m in methods:
        cells = [f"{np.median([table[c][t][m] for t in table[c] if m in table[c][t]]):.2f}" for c in columns]
        both = [t for t in third if "bohb" in third[t] and m in third[t]]
        wins = "" if m == "bohb" or "bohb" not in methods else \
            f"{sum(third[t]['bohb'] < third[t][m] for t in both)}/{len(both)}"
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {wins} |")
    lines += ["", "Per task, median regret at 1/3 of the epochs:", "",
              "| task (ref. best) | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for task in third:
        lines.append(f"| {task} ({saved['reference'][task]:.1f}) | "
                     + " | ".join(f"{third[task].get(m, math.nan):.2f}" for m in methods) + " |")
    return "\n".join(lines)


def _median_curve(runs: list[dict], axis: str, grid: np.ndarray, reference: float) -> np.ndarray:
    return np.median([[regret_at(r, axis, x, reference) for x in grid] for r in runs], axis=0)


def plot(saved: dict, path: Path) -> None:
    """Per task: median regret against epochs consumed; last two panels: the median over tasks of
    the per-task medians, against epochs and against simulated time (fraction of the budget)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not saved.get("runs"):
        return
    tasks = list(saved["runs"])
    full = saved.get("settings", {}).get("budget", 8) * 52
    grid = np.linspace(0.05, 1.0, 40)
    methods = list(dict.fromkeys(m for by in saved["runs"].values() for m in by))
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    cols = 5
    rows = math.ceil((len(tasks) + 2) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows), squeeze=False)
    agg: dict[str, dict[str, list[np.ndarray]]] = {"epochs": {}, "sim_time": {}}
    for k, task in enumerate(tasks):
        ax, ref = axes.flat[k], saved["reference"][task]
        t_full = time_budget(saved["runs"][task])
        for m, runs in saved["runs"][task].items():
            curve = _median_curve(list(runs.values()), "epochs", grid * full, ref)
            agg["epochs"].setdefault(m, []).append(curve)
            agg["sim_time"].setdefault(m, []).append(_median_curve(list(runs.values()), "sim_time", grid * t_full, ref))
            ax.plot(grid, np.clip(curve, 1e-2, None), color=colours[m], label=m)
        ax.set_title(f"task {task}", fontsize=9)
    for j, axis in enumerate(("epochs", "sim_time")):
        ax = axes.flat[len(tasks) + j]
        for m, curves in agg[axis].items():
            ax.plot(grid, np.clip(np.median(curves, axis=0), 1e-2, None), color=colours[m], label=m)
        ax.set_title(f"median over tasks, vs {'epochs' if axis == 'epochs' else 'simulated time'}", fontsize=9)
    for ax in axes.flat[:len(tasks) + 2]:
        ax.set_yscale("log")
        ax.axvline(1 / 3, color="grey", lw=0.6, ls=":")
        ax.set_xlabel("fraction of the budget", fontsize=8)
        ax.set_ylabel("median regret (% points)", fontsize=8)
    for ax in axes.flat[len(tasks) + 2:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


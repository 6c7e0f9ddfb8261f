"""The report's hyperparameter schedule: each trial's mutated values over epochs (pbt, pb2 sweeps).

Read from `hparam_schedule.jsonl`, the record `inspection/hparam_schedule.py` writes as the sweep
runs (the same one `SweepResult.hparam_schedule` reads), one panel per mutated hyperparameter.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from autolearn.config.space import FloatParam, IntParam
from autolearn.inspection.report.data import SweepData
from autolearn.inspection.report.plots import FIGSIZE, _pyplot, _save
from autolearn.results.sweep import SCHEDULE_FILE, read_schedules
from autolearn.values import is_finite_number

Schedules = dict[str, list[dict[str, Any]]]  # trial id → [{"epoch": 1, "lr": ..}, ..]


def hparam_schedules(data: SweepData) -> Schedules:
    """Trial id → its schedule (`[{"epoch": 1, "lr": ..}, ..]`); empty unless a population sweep."""
    path = data.directory / SCHEDULE_FILE
    return read_schedules(path.read_text()) if path.is_file() else {}


def plot_hparam_schedule(data: SweepData, schedules: Schedules, path: Path) -> list[dict[str, Any]]:
    """One panel per mutated hyperparameter: each trial's value at each epoch (log scale where `space` is)."""
    plt = _pyplot()
    names = sorted({k for steps in schedules.values() for step in steps for k in step if k != "epoch"})
    numeric = [n for n in names if all(is_finite_number(s.get(n)) for steps in schedules.values() for s in steps
                                       if n in s)]
    fig, axes = plt.subplots(len(numeric), 1, figsize=(FIGSIZE[0], FIGSIZE[1] * 0.8 * max(len(numeric), 1)),
                             squeeze=False)
    for ax, name in zip(axes[:, 0], numeric):
        for tid, steps in sorted(schedules.items()):
            points = [(s["epoch"], float(s[name])) for s in steps if name in s]
            ax.plot([p[0] for p in points], [p[1] for p in points], drawstyle="steps-post", marker=".",
                    alpha=0.7, linewidth=1, label=tid)
        param = data.space.get(name)
        if isinstance(param, (FloatParam, IntParam)) and param.log:
            ax.set_yscale("log")
        ax.set(title=f"{name} per epoch, by trial", xlabel="epoch", ylabel=name)
    return _save(fig, path)

"""The report's figures, drawn with matplotlib (Agg: no display needed).

Each `plot_*` function takes a `SweepData`, saves one PNG and returns what it handed to
matplotlib, read back from the figure's artists (`plotted`), so tests compare that data with
the trial table rather than pixels.
"""
from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from autolearn.config.space import ChoiceParam
from autolearn.inspection.report.data import SweepData
from autolearn.results.status import RUNNING, label
from autolearn.search.encoding import Dimension, dimension
from autolearn.values import is_finite_number, running_best, worst_to_best

INACTIVE = "inactive"  # the tick of a choice in trials where it was inactive (`when:`)

STATUS_STYLE = {  # status → (colour, end marker): where a curve stops, and why, is visible
    "finished": ("tab:blue", "o"), "stopped": ("tab:orange", "x"), "diverged": ("tab:red", "X"),
    "timeout": ("tab:purple", "s"), "error": ("black", "D"), RUNNING: ("tab:green", ">"),
}
FIGSIZE = (6.4, 3.6)
DPI = 90


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plotted(fig: Any) -> list[dict[str, Any]]:
    """Per axes: its title and the data of its lines and scatter collections, as matplotlib holds them."""
    out = []
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        lines = {line.get_label(): (list(map(float, line.get_xdata())), list(map(float, line.get_ydata())))
                 for line in ax.lines}
        points = [np.asarray(c.get_offsets()).tolist() for c in ax.collections if len(c.get_offsets())]
        bars = [float(p.get_width()) for p in ax.patches]  # horizontal bars: their lengths
        out.append({"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                    "lines": lines, "points": points, "bars": bars,
                    "yticklabels": [t.get_text() for t in ax.get_yticklabels()]})
    return out


def _save(fig: Any, path: Path, bottom: float = 0.0) -> list[dict[str, Any]]:
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=DPI)
    data = plotted(fig)  # after drawing, so tick labels are filled in
    _pyplot().close(fig)
    return data


def best_so_far(data: SweepData) -> dict[str, list[float]]:
    """Best score after each trial (in trial order) and after each report (in wall-clock time)."""
    usable = data.usable()
    by_trial = [float(v) for v in usable[data.score_column]]
    reports = []  # (wall-clock time, score) of every report of a usable trial
    starts = dict(zip(data.table["trial_id"], data.table["start_s"]))
    for tid in usable["trial_id"]:
        curve = data.curves.get(tid)
        start = starts.get(tid)
        if curve is None or data.metric not in curve or "time_total_s" not in curve or not is_finite_number(start):
            continue  # Ray's timestamps are whole seconds: trial start + its own clock is finer
        reports += [(start + float(t), float(v)) for t, v in zip(curve["time_total_s"], curve[data.metric])
                    if is_finite_number(v)]
    reports.sort()
    first = min((s for s in data.table["start_s"] if is_finite_number(s)), default=None)
    origin = first if first is not None else (reports[0][0] if reports else 0.0)
    return {"trial": [float(i + 1) for i in range(len(by_trial))], "by_trial": running_best(by_trial, data.mode),
            "scores": by_trial, "time": [t - origin for t, _ in reports],
            "by_time": running_best([v for _, v in reports], data.mode)}


def plot_best_so_far(data: SweepData, path: Path) -> list[dict[str, Any]]:
    plt = _pyplot()
    series = best_so_far(data)
    fig, (left, right) = plt.subplots(1, 2, figsize=(FIGSIZE[0] * 1.4, FIGSIZE[1]))
    left.scatter(series["trial"], series["scores"], s=14, color="0.6", label="trial score")
    left.plot(series["trial"], series["by_trial"], drawstyle="steps-post", color="tab:blue", label="best so far")
    left.set(title="best so far, by trial", xlabel="trial (in start order)", ylabel=data.metric)
    right.plot(series["time"], series["by_time"], drawstyle="steps-post", color="tab:blue", label="best so far")
    right.set(title="best so far, by wall time", xlabel="seconds since the sweep started", ylabel=data.metric)
    left.legend(loc="best", fontsize=8)
    return _save(fig, path)


def plot_learning_curves(data: SweepData, path: Path) -> list[dict[str, Any]]:
    """Every trial's metric per epoch; the end marker's shape and colour say how the trial ended."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZE)
    status = dict(zip(data.table["trial_id"], data.table["status"]))
    seen: set[str] = set()
    for tid, curve in sorted(data.curves.items()):
        if data.metric not in curve or "training_iteration" not in curve or curve.empty:
            continue
        kind = status.get(tid, RUNNING)
        colour, marker = STATUS_STYLE.get(kind, ("0.4", "."))
        x, y = curve["training_iteration"].astype(float), curve[data.metric].astype(float)
        ax.plot(x, y, color=colour, alpha=0.6, linewidth=1, label=tid)
        if f"{data.metric}_std" in curve:  # task.cv / repeats: the mean ± one standard deviation over folds
            std = curve[f"{data.metric}_std"].astype(float)
            ax.fill_between(x, y - std, y + std, color=colour, alpha=0.08, linewidth=0)
        ax.scatter([x.iloc[-1]], [y.iloc[-1] if math.isfinite(y.iloc[-1]) else np.nanmax(y)], color=colour,
                   marker=marker, s=28, zorder=3, label=label(kind) if kind not in seen else "_nolegend_")
        seen.add(kind)
    ax.set(title=f"learning curves ({data.metric} per epoch)", xlabel="epoch", ylabel=data.metric)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles = [c for c in ax.collections if not c.get_label().startswith("_")]
    if handles:
        ax.legend(handles=handles, title="trial ended", fontsize=8, loc="best")
    return _save(fig, path)


def axis_values(data: SweepData, name: str, values: list[Any]) -> tuple[list[float], list[str] | None]:
    """Numbers to place `values` on an axis: choices at their index 0..n-1 in the space's encoding
    (with their labels), numbers as they are; values no choice of the space holds (a spec that
    changed, or no spec) by their label."""
    param = data.space.get(name)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if isinstance(param, ChoiceParam):
        d = dimension(name, param)
        if all(d.encodable(v) or inactive(v) for v in values):  # inactive (`when:`): a tick of its own
            labels = [str(v) for v in d.values] + ([INACTIVE] if any(inactive(v) for v in values) else [])
            return [float(len(d.values) if inactive(v) else d.to_internal(v)) for v in values], labels
    if isinstance(param, ChoiceParam) or not numeric:
        labels = [str(v) for v in param.values] if isinstance(param, ChoiceParam) else sorted({str(v) for v in values})
        for v in values:
            if str(v) not in labels:
                labels.append(str(v))
        return [float(labels.index(str(v))) for v in values], labels
    return [float(v) for v in values], None


def encoded_line(data: SweepData, name: str, values: list[Any], *, half_step: bool = True) -> Dimension | None:
    """The space's encoding of `name` when it can place every one of `values`, else None."""
    param = data.space.get(name)
    if param is None:
        return None
    d = dimension(name, param, half_step=half_step)
    return d if all(d.encodable(v) or inactive(v) for v in values) else None


def inactive(value: Any) -> bool:
    """A blank cell of results.csv: the parameter was inactive in that trial (`when:`)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def unit_or_nan(d: Dimension, value: Any) -> float:
    """`d.to_unit`, NaN for an inactive value (matplotlib leaves a gap there)."""
    return math.nan if inactive(value) else d.to_unit(value)


def _is_log(data: SweepData, name: str) -> bool:
    return bool(getattr(data.space.get(name), "log", False))


def plot_score_vs_params(data: SweepData, path: Path) -> list[dict[str, Any]]:
    """One panel per hyperparameter: each trial's best score against its value."""
    plt = _pyplot()
    usable, names = data.usable(), data.hparams
    cols = math.ceil(math.sqrt(len(names))) or 1
    rows = max(math.ceil(len(names) / cols), 1)
    fig, axes = plt.subplots(rows, cols, figsize=(FIGSIZE[0] / 2 * cols + 1, FIGSIZE[1] * 0.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        x, labels = axis_values(data, name, list(usable[name]))
        ax.scatter(x, usable[data.score_column].astype(float), s=16, color="tab:blue")
        ax.set(title=name, xlabel=name, ylabel=data.metric)
        if labels is not None:
            ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
        else:
            _numeric_axis(ax, data.space.get(name), _is_log(data, name))
    for ax in list(axes.flat)[len(names):]:
        ax.remove()
    return _save(fig, path)


def _numeric_axis(ax: Any, param: Any, log: bool) -> None:
    """The parameter's whole range (not just the values tried), plain-number ticks on log axes."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if log:
        ax.set_xscale("log")
        if hasattr(param, "low") and param.high / param.low < 100:  # under two decades: 1-2-5 ticks
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    if hasattr(param, "low") and param.high > param.low:
        pad = (param.high / param.low) ** 0.04 if log else (param.high - param.low) * 0.04
        ax.set_xlim(param.low / pad, param.high * pad) if log else ax.set_xlim(param.low - pad, param.high + pad)


def _normalised(data: SweepData, name: str, values: list[Any]) -> tuple[list[float], list[str]]:
    """Values on 0..1 for the parallel-coordinates axis, plus tick labels: the space's encoding with
    the end values on the ends (log ranges on a log scale, choices evenly spaced)."""
    d = encoded_line(data, name, values, half_step=False)
    if d is not None:
        labels = [str(v) for v in d.values] if d.kind == "categorical" else [
            f"{d.from_unit(0.0):.3g}", f"{d.from_unit(1.0):.3g}"]
        return [unit_or_nan(d, v) for v in values], labels
    x, names = axis_values(data, name, values)  # values the space cannot place: by label or as numbers
    if names is not None:
        span = max(len(names) - 1, 1)
        return [v / span for v in x], names
    placed = [v for v in x if not math.isnan(v)]  # an inactive number: NaN, a gap in its line
    low, high = min(placed, default=0.0), max(placed, default=1.0)
    return [(v - low) / (high - low) if high > low else 0.5 for v in x], [f"{low:.3g}", f"{high:.3g}"]


def plot_parallel_coordinates(data: SweepData, path: Path) -> list[dict[str, Any]]:
    """One line per trial across the hyperparameter axes, coloured by its score."""
    plt = _pyplot()
    from matplotlib import cm, colormaps, colors

    usable, names = data.usable(), data.hparams
    scores = usable[data.score_column].astype(float).tolist()
    columns = [_normalised(data, n, list(usable[n])) for n in names]
    fig, ax = plt.subplots(figsize=(FIGSIZE[0] * 1.2, FIGSIZE[1]))
    norm = colors.Normalize(min(scores, default=0.0), max(scores, default=1.0))
    cmap = colormaps["viridis"]
    for i in worst_to_best(scores, data.mode):  # best drawn last, on top
        ax.plot(range(len(names)), [col[0][i] for col in columns], color=cmap(norm(scores[i])), alpha=0.8,
                label=str(usable["trial_id"].iloc[i]))
    for j, (_, labels) in enumerate(columns):
        ticks = np.linspace(0, 1, len(labels)) if len(labels) > 1 else [0.5]
        for t, text in zip(ticks, labels):
            ax.annotate(text, (j, t), xytext=(3, 0), textcoords="offset points", fontsize=7, va="center")
        ax.axvline(j, color="0.7", linewidth=0.8, label="_axis")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks([])
    ax.set(title=f"parallel coordinates (colour: {data.metric})", ylim=(-0.05, 1.05))
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=data.metric)
    return _save(fig, path)


def plot_importance(importance: dict[str, float], method: str, path: Path) -> list[dict[str, Any]]:
    """Horizontal bars, most important on top."""
    plt = _pyplot()
    items = sorted(importance.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(FIGSIZE[0], max(1.6, 0.45 * len(items) + 1.2)))
    ax.barh([k for k, _ in items], [v for _, v in items], color="tab:blue")
    ax.set(title="hyperparameter importance", xlabel="share of explained variation")
    note = textwrap.fill(method, 110)
    fig.text(0.01, 0.01, note, fontsize=7, color="0.35", va="bottom")
    return _save(fig, path, bottom=0.05 + 0.045 * note.count("\n") + 0.04)

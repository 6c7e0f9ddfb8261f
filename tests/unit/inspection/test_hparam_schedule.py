"""A population sweep's hyperparameter schedule: read back from `hparam_schedule.jsonl` (as
`HparamRecorder` writes it) and drawn by the report, one panel per mutated hyperparameter."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from autolearn.config.space import SearchSpace
from autolearn.inspection.report.data import SweepData
from autolearn.inspection.report.schedule import hparam_schedules, plot_hparam_schedule
from autolearn.results.sweep import SCHEDULE_FILE, TrialRow, attach_schedules, read_schedules

# What a trial reports, in order: b is cloned at epoch 3 from a's checkpoint of epoch 2, so it
# reports epoch 3 twice; the later report is the one its final weights trained with.
RECORDS = [{"trial_id": t, "epoch": e, "lr": lr, "batch_size": bs} for t, e, lr, bs in [
    ("a", 1, 0.1, 32), ("b", 1, 0.001, 16), ("a", 2, 0.1, 32), ("b", 2, 0.001, 16),
    ("b", 3, 0.001, 16), ("b", 3, 0.08, 64), ("a", 3, 0.1, 32)]]


def _write(folder: Path) -> None:
    text = "\n".join(json.dumps(r) for r in RECORDS) + '\n{"trial_id": "a", "ep'  # a line cut by a crash
    (folder / SCHEDULE_FILE).write_text(text)


def test_schedule_per_trial_and_epoch_the_last_report_wins(tmp_path):
    _write(tmp_path)
    schedules = read_schedules((tmp_path / SCHEDULE_FILE).read_text())
    assert [s["lr"] for s in schedules["b"]] == [0.001, 0.001, 0.08]
    assert schedules["b"][2] == {"epoch": 3, "lr": 0.08, "batch_size": 64}
    rows = [TrialRow(tid, "finished", 3, {}, {}, None, None) for tid in ("a", "b", "c")]
    attach_schedules(rows, tmp_path)
    assert [len(r.schedule) for r in rows] == [3, 3, 0]


def test_the_report_draws_each_mutated_hyperparameter_per_epoch(tmp_path):
    _write(tmp_path)
    space = SearchSpace.from_dict({"lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
                                   "batch_size": {"type": "choice", "values": [16, 32, 64]}})
    data = SweepData(directory=tmp_path, metric="val_accuracy", mode="max", space=dict(space), max_epochs=3,
                     table=pd.DataFrame(), curves={}, finished=True)
    schedules = hparam_schedules(data)
    panels = plot_hparam_schedule(data, schedules, tmp_path / "schedule.png")
    assert (tmp_path / "schedule.png").stat().st_size > 0
    assert [p["title"] for p in panels] == ["batch_size per epoch, by trial", "lr per epoch, by trial"]
    assert panels[1]["lines"]["b"] == ([1.0, 2.0, 3.0], [0.001, 0.001, 0.08])
    assert panels[0]["lines"]["a"] == ([1.0, 2.0, 3.0], [32.0, 32.0, 32.0])

"""An inactive parameter (absent from a trial's config) is blank in results.csv, left out of
TensorBoard HParams and of the best config, and the report's plots and importance draw around it."""
from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pandas as pd

from autolearn.config.space import SearchSpace
from autolearn.inspection.report import APPLIES, PLOTS
from autolearn.inspection.report.data import SweepData
from autolearn.inspection.report.importance import hyperparameter_importance
from autolearn.inspection.report.markdown import best_config
from autolearn.results.sweep import SweepResult, TrialRow

SPACE = SearchSpace.from_dict({
    "optimizer": {"type": "choice", "values": ["sgd", "momentum", "adam"]},
    "momentum": {"type": "float", "low": 0.5, "high": 0.99, "when": {"optimizer": ["momentum"]}},
    "nesterov": {"type": "choice", "values": [True, False], "when": {"optimizer": ["momentum"]}},
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
})


def _rows(n: int) -> list[dict]:
    rng = random.Random(0)
    rows = []
    for i in range(n):
        config = {"optimizer": rng.choice(["sgd", "momentum", "adam"]), "momentum": rng.uniform(0.5, 0.99),
                  "nesterov": rng.choice([True, False]), "lr": 10 ** rng.uniform(-4, -1)}
        config = SPACE.prune(config)
        rows.append({"trial_id": f"t{i:03d}", "status": "finished", **config,
                     "best_val_accuracy": config.get("momentum", 0.5) + rng.random() * 0.01,
                     "epochs": 3, "start_s": float(i), "end_s": float(i + 1)})
    return rows


def _data(rows: list[dict]) -> SweepData:
    return SweepData(directory=Path("."), metric="val_accuracy", mode="max", space=dict(SPACE), max_epochs=3,
                     table=pd.DataFrame(rows), curves={}, finished=True)


def test_an_inactive_parameter_is_blank_in_results_csv():
    trials = [TrialRow(trial_id="a", status="finished", epochs=1, config={"optimizer": "sgd", "lr": 0.01},
                       metrics={"val_accuracy": 0.5}, best_score=0.5, best_epoch=1),
              TrialRow(trial_id="b", status="finished", epochs=1, config={"optimizer": "momentum", "momentum": 0.9,
                       "lr": 0.01}, metrics={"val_accuracy": 0.6}, best_score=0.6, best_epoch=1)]
    result = SweepResult(name="x", experiment_dir=".", metric="val_accuracy", mode="max", space_keys=list(SPACE),
                         trials=trials, wall_time_s=1.0)
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert rows[0]["momentum"] == "" and rows[1]["momentum"] == "0.9"


def test_plots_importance_and_best_config_take_inactive_parameters(tmp_path):
    data = _data(_rows(24))
    assert data.table["momentum"].isna().any() and data.table["nesterov"].isna().any()
    for name, plot in PLOTS.items():
        if name in APPLIES and not APPLIES[name](data):  # e.g. the Pareto front: one objective here
            continue
        plot(data, tmp_path / name)
        assert (tmp_path / name).is_file(), name
    importance = hyperparameter_importance(data)
    assert set(importance.values) == set(SPACE)
    best = best_config(data)
    assert best is not None and best["optimizer"] == "momentum" and SPACE.contains(best)
    sgd_best = best_config(_data([{**r, "best_val_accuracy": 2.0} if r["optimizer"] == "sgd" else r
                                  for r in _rows(24)]))
    assert sgd_best is not None and SPACE.contains(sgd_best) and sgd_best["optimizer"] == "sgd"


def test_hparams_leave_an_inactive_parameter_out():
    from tensorboard.plugins.hparams import metadata

    from autolearn.inspection.hparams import session_start_summary

    summary = session_start_summary("t1", {"optimizer": "sgd", "lr": 0.01}, dict(SPACE), "finished", 0.0)
    info = metadata.parse_session_start_info_plugin_data(summary.value[0].metadata.plugin_data.content)
    assert set(info.hparams) == {"optimizer", "lr", "status"}

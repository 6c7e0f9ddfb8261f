"""Trial rows, the best trial and statuses: one builder, one comparison, one list of statuses.

`build_row` serves both the finished sweep (Ray's results) and the report of a running one (Ray's
trial folders), so both read a trial the same way; these tests feed it what each source has.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autolearn.inspection.report.data import load_sweep
from autolearn.results import LABELS, STATUSES, TrialRow, build_row, pick_best
from autolearn.results.status import SESSION_STATUS, UNSCORED, classify, label
from autolearn.values import best_index, is_finite_number, running_best, worst_to_best


def _reports(scores: list[float], lr: float = 0.1) -> pd.DataFrame:
    return pd.DataFrame({"training_iteration": range(1, len(scores) + 1), "val_loss": scores,
                         "lr": [lr / 2**i for i in range(len(scores))], "trial_id": "t1", "timestamp": 0})


def test_a_row_takes_the_best_finite_report_and_keeps_the_configured_hyperparameter():
    reports = _reports([0.9, float("nan"), 0.4, 0.6])
    last = reports.iloc[-1].to_dict()
    row = build_row("t1", last, {"lr": np.float64(0.1), "seed": 3}, reports, None, "val_loss", "min",
                    ["lr"], max_epochs=4)
    assert (row.status, row.epochs, row.best_score, row.best_epoch) == ("finished", 4, 0.4, 3)
    assert row.config == {"lr": 0.1} and type(row.config["lr"]) is float  # searched keys, plain values
    flat = row.as_flat("val_loss")
    assert flat["lr"] == 0.1  # the configured rate, not the last one a schedule reported (0.0125)
    assert row.metrics["lr"] == pytest.approx(0.0125)
    assert "trial_id" not in row.metrics and "timestamp" not in row.metrics  # Ray's bookkeeping


def test_without_reports_the_last_score_is_the_best_and_errors_read_as_one_line():
    row = build_row("t2", {"val_loss": 0.3, "training_iteration": 2}, {}, None,
                    ValueError("bad\nthings happened"), "val_loss", "min", [], max_epochs=4)
    assert (row.status, row.best_score, row.best_epoch) == ("error", 0.3, None)
    assert row.error == "ValueError: things happened"
    from_file = build_row("t3", {"training_iteration": 1}, {}, None, "Traceback ...\nKeyError: 'x'\n",
                          "val_loss", "min", [], max_epochs=4)
    assert (from_file.status, from_file.error) == ("error", "KeyError: 'x'")


def _row(trial_id: str, status: str, score: float | None) -> TrialRow:
    return TrialRow(trial_id=trial_id, status=status, epochs=1, config={}, metrics={}, best_score=score,
                    best_epoch=1)


@pytest.mark.parametrize(("mode", "best"), [("max", "b"), ("min", "a")])
def test_pick_best_skips_unscored_and_non_finite_trials(mode, best):
    rows = [_row("a", "finished", 0.2), _row("b", "stopped", 0.7), _row("c", "diverged", 0.9 if mode == "max" else 0.0),
            _row("d", "error", None), _row("e", "finished", float("nan")), _row("f", "timeout", 0.5)]
    picked = pick_best(rows, mode)
    assert picked is not None and picked.trial_id == best
    assert pick_best([_row("x", "error", 1.0)], mode) is None


def test_score_helpers_agree_on_ties_and_modes():
    scores = [0.3, 0.5, 0.5, 0.1]
    assert best_index(scores, "max") == 1 and best_index(scores, "min") == 3 and best_index([], "max") is None
    assert running_best(scores, "max") == [0.3, 0.5, 0.5, 0.5]
    assert running_best(scores, "min") == [0.3, 0.3, 0.3, 0.1]
    assert worst_to_best(scores, "max")[-1] in (1, 2) and worst_to_best(scores, "min")[-1] == 3
    assert is_finite_number(np.float32(0.5)) and not is_finite_number(np.float64("inf"))
    assert not is_finite_number(True) and not is_finite_number("0.5")


def test_every_status_has_a_label_and_a_session_status():
    assert set(STATUSES) <= set(LABELS) and set(STATUSES) == set(SESSION_STATUS)
    assert set(STATUSES) >= UNSCORED
    assert label("stopped") == "stopped early" and label("something-new") == "something-new"
    assert classify({"training_iteration": 2}, None, max_epochs=4) == "stopped"


def test_the_report_of_a_running_sweep_builds_its_rows_like_results_csv(tmp_path):
    """A Ray trial folder (params.json + progress.csv, no results.csv yet): same row as build_row's."""
    folder = tmp_path / "sweep"
    trial = folder / "train_abc_00000"
    trial.mkdir(parents=True)
    (trial / "params.json").write_text('{"lr": 0.1, "seed": 3}')
    _reports([0.9, 0.4]).assign(trial_id="abc_00000", time_total_s=[1.0, 2.0]).to_csv(trial / "progress.csv",
                                                                                       index=False)
    (folder / "summary.json").write_text('{"metric": "val_loss", "mode": "min"}')
    data = load_sweep(folder)
    row = data.table.iloc[0]
    assert (row["trial_id"], row["status"], row["best_val_loss"], row["best_epoch"]) == ("abc_00000", "running",
                                                                                        0.4, 2)
    assert row["lr"] == 0.1  # the configured value (the space is unknown here: every params.json key)

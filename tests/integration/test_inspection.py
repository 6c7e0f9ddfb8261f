"""Inspecting a sweep: TensorBoard HParams (real server + event files), the report, live progress.

One small seed sweep (3 trials, 2 epochs, ASHA) is shared by every test in this module.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autolearn import Experiment, run_experiment
from autolearn.inspection.progress import ProgressCallback, SweepProgress

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.slow]
TAGS = {"train/loss", "val/loss", "val/accuracy", "lr", "best/val_accuracy", "epochs"}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, ray_session):
    from autolearn.config.defaults import seed_spec

    data = seed_spec()
    data.update(name="inspect", storage=str(tmp_path_factory.mktemp("inspect")),
                search={"strategy": "random", "num_samples": 3, "seed": 7},
                scheduler={"name": "asha", "grace_period": 1, "reduction_factor": 2})
    data["train"] = {**data["train"], "epochs": 2}
    exp = Experiment.from_dict(data)
    out = io.StringIO()
    progress = SweepProgress(metric="val_accuracy", mode="max", expected_trials=3, max_epochs=2,
                             space_keys=list(exp.space))
    result = run_experiment(exp, callbacks=[ProgressCallback(progress, out, tty=False, interval=0)])
    with open(Path(result.experiment_dir) / "results.csv") as handle:
        rows = {row["trial_id"]: row for row in csv.DictReader(handle)}
    return {"exp": exp, "result": result, "rows": rows, "progress": out.getvalue(),
            "dir": Path(result.experiment_dir)}


def _trial_runs(folder: Path) -> dict[str, Path]:
    """Short trial id (`00002`) → its TensorBoard run folder."""
    return {p.name.split("_", 1)[0]: p for p in (folder / "tensorboard").iterdir() if p.is_dir()}


def _short(trial_id: str) -> str:
    return trial_id.rsplit("_", 1)[-1]


# --- TensorBoard: a real server --------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, body: dict | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def tensorboard(sweep):
    """`tensorboard --logdir EXPERIMENT` on a free port; stopped (its process group) afterwards."""
    port = _free_port()
    exe = Path(sys.executable).parent / "tensorboard"
    proc = subprocess.Popen([str(exe), "--logdir", str(sweep["dir"]), "--host", "127.0.0.1", "--port", str(port),
                             "--reload_interval", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:  # up, and every trial's run loaded
            try:
                runs = _get(f"{base}/data/runs")
                if len([r for r in runs if r.count("/") == 1]) >= len(sweep["rows"]):
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tensorboard did not come up: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_tensorboard_lists_every_trial_with_grouped_scalars(sweep, tensorboard):
    runs = _get(f"{tensorboard}/data/runs")
    tags = _get(f"{tensorboard}/data/plugin/scalars/tags")
    for trial_id, row in sweep["rows"].items():
        (run,) = [r for r in runs if r.startswith(f"tensorboard/{_short(trial_id)}_")]
        assert f"lr={float(row['lr']):.3g}" in run and f"optimizer={row['optimizer']}" in run
        assert set(tags[run]) >= TAGS


def test_hparams_experiment_declares_domains_and_metrics(sweep, tensorboard):
    experiment = _get(f"{tensorboard}/data/plugin/hparams/experiment", {"experimentName": ""})
    infos = {h["name"]: h for h in experiment["hparamInfos"]}
    assert set(infos) == {"lr", "batch_size", "hidden_units", "optimizer", "status"}
    assert infos["optimizer"]["domainDiscrete"] == ["sgd", "momentum", "adam", "rmsprop"]
    assert infos["batch_size"]["domainDiscrete"] == [16, 32, 64, 128]
    assert infos["lr"]["domainInterval"] == {"minValue": 1e-4, "maxValue": 0.1}
    assert infos["hidden_units"]["domainInterval"] == {"minValue": 16, "maxValue": 256}
    assert set(infos["status"]["domainDiscrete"]) == {"finished", "stopped", "diverged", "timeout", "error",
                                                          "interrupted", "infeasible", "oom"}
    metrics = {m["name"]["tag"] for m in experiment["metricInfos"]}
    assert {"val/accuracy", "best/val_accuracy", "val/loss", "train/loss", "epochs"} <= metrics


def test_hparams_session_groups_hold_every_trials_values(sweep, tensorboard):
    body = {"experimentName": "", "startIndex": 0, "sliceSize": 100,
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
            "colParams": []}
    groups = _get(f"{tensorboard}/data/plugin/hparams/session_groups", body)["sessionGroups"]
    by_trial = {g["name"]: g for g in groups}
    assert set(by_trial) == set(sweep["rows"])
    for trial_id, row in sweep["rows"].items():
        group = by_trial[trial_id]
        hp = group["hparams"]
        assert hp["status"] == row["status"] and hp["optimizer"] == row["optimizer"]
        assert math.isclose(hp["lr"], float(row["lr"]), rel_tol=1e-9)
        assert hp["batch_size"] == int(row["batch_size"]) and hp["hidden_units"] == int(row["hidden_units"])
        values = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        assert math.isclose(values["best/val_accuracy"], float(row["best_val_accuracy"]), rel_tol=1e-6)
        assert math.isclose(values["val/accuracy"], float(row["val_accuracy"]), rel_tol=1e-6)
        assert values["epochs"] == int(row["epochs"])


# --- TensorBoard: event files read back with its own reader -----------------------------------

def test_event_files_hold_the_hparams_session_data(sweep):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import api_pb2, metadata

    root = EventAccumulator(str(sweep["dir"] / "tensorboard"))
    root.Reload()
    experiment = metadata.parse_experiment_plugin_data(root.PluginTagToContent("hparams")[metadata.EXPERIMENT_TAG])
    assert [h.name for h in experiment.hparam_infos] == [*sweep["exp"].space, "status"]
    runs = _trial_runs(sweep["dir"])
    for trial_id, row in sweep["rows"].items():
        events = EventAccumulator(str(runs[_short(trial_id)]))
        events.Reload()
        content = events.PluginTagToContent("hparams")
        start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        assert start.group_name == trial_id
        assert start.hparams["status"].string_value == row["status"]
        assert start.hparams["optimizer"].string_value == row["optimizer"]
        assert start.hparams["hidden_units"].number_value == int(row["hidden_units"])
        assert end.status == api_pb2.STATUS_SUCCESS  # finished or stopped early: both ended cleanly
        best = events.Scalars("best/val_accuracy")
        assert math.isclose(best[-1].value, float(row["best_val_accuracy"]), rel_tol=1e-6)


# --- the report ----------------------------------------------------------------------------------

def _check_report(report, rows: dict[str, dict], best_id: str) -> None:
    from PIL import Image

    assert set(report.images) >= {"best_so_far.png", "learning_curves.png", "parallel_coordinates.png",
                                  "score_vs_params.png"}
    for path in report.images.values():
        with Image.open(path) as image:
            assert image.format == "PNG" and 300 <= image.width <= 2000 and 150 <= image.height <= 2000
    ordered = [rows[t] for t in sorted(rows)]
    scores = [float(r["best_val_accuracy"]) for r in ordered]
    by_trial = report.plotted["best_so_far.png"][0]
    assert by_trial["points"] == [[[float(i + 1), s] for i, s in enumerate(scores)]]
    assert by_trial["lines"]["best so far"][1] == [max(scores[:i + 1]) for i in range(len(scores))]
    assert report.plotted["best_so_far.png"][1]["lines"]["best so far"][1][-1] == max(scores)
    curves = report.plotted["learning_curves.png"][0]["lines"]
    for trial_id, row in rows.items():
        x, y = curves[trial_id]
        assert x == [float(e) for e in range(1, int(row["epochs"]) + 1)]  # an early stop ends the curve early
        assert math.isclose(y[-1], float(row["val_accuracy"]), rel_tol=1e-9)
    panels = {p["title"]: p for p in report.plotted["score_vs_params.png"]}
    assert sorted(map(tuple, panels["lr"]["points"][0])) == sorted((float(r["lr"]), float(r["best_val_accuracy"]))
                                                                    for r in ordered)
    lines = report.plotted["parallel_coordinates.png"][0]["lines"]
    assert set(rows) <= set(lines)
    text = report.markdown.read_text()
    best = rows[best_id]
    assert f"Trial `{best_id}`" in text and f"| optimizer | {best['optimizer']} |" in text
    assert f"| hidden_units | {best['hidden_units']} |" in text
    for image in report.images:
        assert f"]({image})" in text


def test_report_plots_the_trial_table_and_names_the_best_config(sweep, tmp_path):
    from autolearn.inspection.report import write_report

    report = write_report(sweep["dir"], tmp_path / "report")
    _check_report(report, sweep["rows"], sweep["result"].best_trial_id)
    assert report.best_config == sweep["result"].best_config
    assert "Sweep finished" in report.markdown.read_text()


def test_report_of_a_running_sweep_reads_the_trial_folders(sweep, tmp_path):
    from autolearn.inspection.report import write_report

    running = tmp_path / "running"
    shutil.copytree(sweep["dir"], running, ignore=shutil.ignore_patterns("results.csv", "summary.json",
                                                                         "checkpoint_*", "tensorboard"))
    report = write_report(running)
    table = report.data.table.set_index("trial_id")
    assert set(table.index) == set(sweep["rows"])
    for trial_id, row in sweep["rows"].items():
        expected = "finished" if row["status"] == "finished" else "running"  # an early stop is not known yet
        assert table.loc[trial_id, "status"] == expected
        assert math.isclose(table.loc[trial_id, "best_val_accuracy"], float(row["best_val_accuracy"]))
    assert report.best_config == sweep["result"].best_config
    assert "still running" in report.markdown.read_text()


def test_report_command_writes_into_the_experiment_folder(sweep, capsys):
    from autolearn.cli import main

    assert main(["report", str(sweep["dir"])]) == 0
    out = capsys.readouterr().out
    assert f"report: {sweep['dir'] / 'report' / 'report.md'}" in out
    assert str(sweep["result"].best_config) in out
    assert (sweep["dir"] / "report" / "learning_curves.png").is_file()


# --- live progress --------------------------------------------------------------------------------

def test_progress_lines_show_counts_and_the_best_score(sweep):
    lines = sweep["progress"].splitlines()
    counts = sweep["result"].status_counts()
    final = [line for line in lines if line.startswith("trials 3/3 done:")][-1]
    assert f"finished {counts['finished']}" in final and f"stopped early {counts['stopped']}" in final
    assert "running 0" in final and "errored 0" in final and "diverged 0" in final
    best = sweep["result"]
    assert lines[-1].startswith(f"best val_accuracy: {best.best_score:.4f} (trial {best.best_trial_id})")
    assert f"optimizer={best.best_config['optimizer']}" in lines[-1]
    assert any("left ~" in line for line in lines)  # an estimate was shown while trials ran
    assert "\x1b[" not in sweep["progress"]  # plain lines when the output is not a terminal

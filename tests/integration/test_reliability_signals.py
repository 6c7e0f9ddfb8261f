"""Ctrl-C, SIGTERM and SIGHUP to a real CLI sweep (a subprocess with its own local Ray): the sweep
stops, every finished trial is kept, summary.json says it is incomplete, the exit code is
128 + the signal, and `--resume` completes it with exactly num_samples distinct trials. While a
resume runs, a second resume of the same folder is refused in one line (the folder's lock)."""
from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from test_faults import EPOCHS, TRIALS, _kill_ray, _spec, _sweep, _trials, _wait_for_mid_sweep, tmpdir_for_ray

from autolearn.execution.lock import LOCK_FILE

pytestmark = pytest.mark.slow
__all__ = ["tmpdir_for_ray"]  # the fixture, imported for this module's tests


def _rows(experiment: Path) -> list[dict[str, str]]:
    with open(experiment / "results.csv") as handle:
        return list(csv.DictReader(handle))


def _trial_id(folder: str) -> str:
    """`train_trial_4f2a1_00003_3_lr=...` -> `4f2a1_00003`."""
    return "_".join(folder.split("_")[2:4])


def _second_resume_is_refused(experiment: Path, tmpdir: str, first: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not (experiment / LOCK_FILE).exists():
        assert first.poll() is None and time.monotonic() < deadline, "the first resume never took the lock"
        time.sleep(0.1)
    second = _sweep(["--resume", str(experiment)], tmpdir)
    output, _ = second.communicate(timeout=120)
    lines = output.strip().splitlines()
    assert second.returncode == 2, output
    assert len(lines) == 1 and lines[0].startswith("error: name: the experiment 'crash' is in use by process")


@pytest.mark.parametrize("signum, fuse", [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGHUP, 1),
                                         (signal.SIGINT, 3)], ids=["SIGINT", "SIGTERM", "SIGHUP", "SIGINT-fused"])
def test_a_stop_signal_keeps_finished_trials_and_resume_completes(tmp_path, tmpdir_for_ray, signum, fuse):
    """Also for a fused sweep (trained in the driver's process, which the signal reaches directly)."""
    storage, spec = tmp_path / "runs", tmp_path / "crash.yaml"
    data = _spec(storage)
    if fuse > 1:  # one group at a time, so that some members finish while others still train
        data["search"]["fuse"], data["resources"]["cpus_per_trial"] = fuse, 2
    spec.write_text(yaml.safe_dump(data))
    experiment = storage / "crash"
    proc = _sweep([str(spec)], tmpdir_for_ray, start_new_session=True)
    try:
        _wait_for_mid_sweep(proc, experiment)
        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=180)
    finally:
        _kill_ray(tmpdir_for_ray)
    assert proc.returncode == 128 + signum, output
    assert f"interrupted by {signum.name}" in output and "--resume" in output
    summary = json.loads((experiment / "summary.json").read_text())
    assert summary["complete"] is False and summary["interrupted_by"] == signum.name
    assert "test_accuracy" not in summary  # nothing scored on the test split for a partial sweep
    finished = {_trial_id(t) for t, e in _trials(experiment).items() if e and e[-1] == EPOCHS}
    rows = _rows(experiment)
    assert finished and finished <= {r["trial_id"] for r in rows if r["status"] == "finished"}, rows
    assert any(r["status"] == "interrupted" for r in rows) or len(rows) < TRIALS

    resumed = _sweep(["--resume", str(experiment)], tmpdir_for_ray)
    try:
        if signum == signal.SIGTERM:
            _second_resume_is_refused(experiment, tmpdir_for_ray, resumed)
        output, _ = resumed.communicate(timeout=400)
    finally:
        _kill_ray(tmpdir_for_ray)
    assert resumed.returncode == 0, output
    rows = _rows(experiment)
    assert len(rows) == TRIALS and len({r["trial_id"] for r in rows}) == TRIALS
    assert all(r["status"] == "finished" for r in rows), rows
    final = json.loads((experiment / "summary.json").read_text())
    assert final["complete"] is True and final["wall_time_s"] >= summary["wall_time_s"]
    assert not (experiment / LOCK_FILE).exists()

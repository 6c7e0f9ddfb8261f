"""A real crash while saving: the writer SIGKILLs itself after the new bytes are written, before the
rename; results.csv and summary.json keep their previous version, whole and readable."""
from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from autolearn.results import SweepResult, TrialRow

ROOT = Path(__file__).resolve().parents[2]

def _result(folder: Path, score: float) -> SweepResult:
    row = TrialRow(trial_id="t1", status="finished", epochs=2, config={"lr": 0.1},
                   metrics={"val_accuracy": score}, best_score=score, best_epoch=2)
    return SweepResult(name="atomic", experiment_dir=str(folder), metric="val_accuracy", mode="max",
                       space_keys=["lr"], trials=[row], wall_time_s=1.0, best_trial_id="t1")


def test_a_process_killed_while_saving_leaves_the_previous_results_readable(tmp_path):
    """A real crash: the writer SIGKILLs itself after the new bytes are written, before the rename."""
    _result(tmp_path, 0.5).save()
    before = {name: (tmp_path / name).read_text() for name in ("results.csv", "summary.json")}
    child = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_results_crash import _result
        os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # die mid-write
        _result(__import__("pathlib").Path({str(tmp_path)!r}), 0.9).save()
    """)
    done = subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    for name, text in before.items():
        assert (tmp_path / name).read_text() == text
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert float(rows[0]["val_accuracy"]) == 0.5
    assert json.loads((tmp_path / "summary.json").read_text())["best_score"] == 0.5

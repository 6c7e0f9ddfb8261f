"""The command line: a real sweep through `autolearn sweep`, and one-line errors with exit code 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autolearn.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_bad_spec_exits_2_with_one_line_naming_the_field(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\nspace:\n  lr: {type: float, low: 0, high: 0.1, log: true}\n")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "sweep.py"), str(spec), "--storage", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: space.lr.low:") and "low > 0" in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("field, value, named", [
    ("strategy", "anneal", "search.strategy"),
    ("target", "label", "task.dataset.target"),
])
def test_bad_input_through_the_real_script_leaves_nothing_behind(tmp_path, field, value, named):
    """The script (not only `cli.main`): exit 2, one line naming the field, no file left behind."""
    (tmp_path / "data.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    spec = {"name": "bad", "storage": str(tmp_path / "runs"), "train": {"epochs": 2},
            "search": {"strategy": "random", "num_samples": 2},
            "space": {"lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}}}
    if field == "strategy":
        spec["search"]["strategy"] = value
    else:
        spec["task"] = {"dataset": {"name": "csv", "path": str(tmp_path / "data.csv"), "target": value}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "sweep.py"), str(tmp_path / "spec.yaml")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and named in lines[0], lines[0]
    assert proc.stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.usefixtures("ray_session")
def test_sweep_command_prints_table_best_config_and_tensorboard(capsys, tmp_path):
    code = main(["sweep", "--num-samples", "2", "--max-epochs", "2", "--storage", str(tmp_path), "--name", "cli"])
    out = capsys.readouterr().out
    assert code == 0
    assert "trial_id" in out and "best config:" in out and "test_accuracy:" in out
    assert f"tensorboard --logdir {tmp_path / 'cli'}" in out
    assert (tmp_path / "cli" / "results.csv").is_file()

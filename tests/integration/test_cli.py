"""The command line: a real sweep through `autolearn sweep`, and one-line errors with exit code 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = capsys.readouterr().out
    for option in ("--strategy", "--num-samples", "--max-epochs", "--scheduler", "--cpus-per-trial",
                   "--gpus-per-trial", "--address", "--storage", "--name", "--seed", "--quiet"):
        assert option in text


def test_overrides_reach_the_spec(capsys, tmp_path):
    code = main(["sweep", "--strategy", "grid", "--print-spec", "--storage", str(tmp_path), "--name", "x",
                 "--max-epochs", "2", "--scheduler", "asha", "--cpus-per-trial", "0.5", "--seed", "7"])
    out = capsys.readouterr()
    assert code == 2 and "space.lr" in out.err  # a continuous lr cannot be a grid: caught before anything runs
    code = main(["sweep", "--print-spec", "--storage", str(tmp_path), "--name", "x", "--max-epochs", "2",
                 "--scheduler", "asha", "--cpus-per-trial", "0.5", "--seed", "7", "--num-samples", "3"])
    text = capsys.readouterr().out
    assert code == 0
    for line in ("name: x", "epochs: 2", "name: asha", "cpus_per_trial: 0.5", "seed: 7", "num_samples: 3"):
        assert line in text


@pytest.mark.usefixtures("ray_session")
def test_sweep_command_prints_table_best_config_and_tensorboard(capsys, tmp_path):
    code = main(["sweep", "--num-samples", "2", "--max-epochs", "2", "--storage", str(tmp_path), "--name", "cli"])
    out = capsys.readouterr().out
    assert code == 0
    assert "trial_id" in out and "best config:" in out and "test_accuracy:" in out
    assert f"tensorboard --logdir {tmp_path / 'cli'}" in out
    assert (tmp_path / "cli" / "results.csv").is_file()

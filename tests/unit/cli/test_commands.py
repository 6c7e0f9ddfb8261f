"""The command line's options, in-process: help names every option and overrides reach the spec."""
from __future__ import annotations

import pytest

from autolearn.cli import main


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

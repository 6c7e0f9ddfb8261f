"""`autolearn lr-find` from the command line: a plot, a suggestion with its rule, exit codes."""
from __future__ import annotations

from autolearn.cli import main


def test_lr_find_writes_the_plot_and_names_the_rule(tmp_path, capsys):
    out = tmp_path / "lr.png"
    assert main(["lr-find", "--steps", "80", "--optimizer", "adam", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "suggested lr for adam: " in text and "rule: steepest descent" in text and "log-uniform [" in text
    assert out.stat().st_size > 0


def test_lr_find_bad_input_exits_2_with_one_line(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text("task: {trainable: 'os:getcwd'}\nmetric: score\n")
    assert main(["lr-find", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: task.trainable: lr-find trains the built-in") and "\n" not in err
    assert main(["lr-find", "--steps", "3"]) == 2

"""WHERE and how a sweep runs: the Tuner built, fitted and collected; resume; cluster capacity;
stopping rules. The layer that drives Ray Tune end to end, built on `config`, `search`,
`training` and `results`; the CLI and the Python API call into it.
"""
from __future__ import annotations

from autolearn.execution.resume import resume_experiment
from autolearn.execution.runner import run, run_experiment

__all__ = ["resume_experiment", "run", "run_experiment"]

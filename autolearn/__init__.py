"""autolearn: parallel hyperparameter tuning for PyTorch on Ray Tune.

The public API. The package's folders are the flow of a sweep (see docs/ARCHITECTURE.md):
`config` (what to run) → `search` and `training` → `execution` (running it on Ray) →
`results` and `inspection` (what it leaves and shows); `cli` sits on top.
"""
from __future__ import annotations

from autolearn.config import (
                              ChoiceParam,
                              DatasetSpec,
                              Experiment,
                              FloatParam,
                              GridParam,
                              IntParam,
                              MetricSpec,
                              ModelSpec,
                              ResourcesSpec,
                              RunSpec,
                              SchedulerSpec,
                              SearchSpace,
                              SearchSpec,
                              SplitSpec,
                              TaskSpec,
                              TrainSpec,
                              load_spec,
)
from autolearn.errors import AutolearnError, ConfigError, DataError, ResourceError, SweepError
from autolearn.execution import resume_experiment, run, run_experiment
from autolearn.results import SweepResult
from autolearn.search import make_search
from autolearn.training import get_checkpoint, report

__all__ = [
    "AutolearnError", "ChoiceParam", "ConfigError", "DataError", "DatasetSpec", "Experiment", "FloatParam",
    "GridParam", "IntParam", "MetricSpec", "ModelSpec", "ResourceError", "ResourcesSpec", "RunSpec",
    "SchedulerSpec", "SearchSpace", "SearchSpec", "SplitSpec", "SweepError", "SweepResult", "TaskSpec",
    "TrainSpec", "get_checkpoint", "load_spec", "make_search", "report", "resume_experiment", "run",
    "run_experiment",
]
__version__ = "0.1.0"

"""autolearn: parallel hyperparameter tuning for PyTorch on Ray Tune."""
from __future__ import annotations

from autolearn.errors import AutolearnError, ConfigError, DataError, ResourceError, SweepError
from autolearn.report import get_checkpoint, report
from autolearn.results import SweepResult
from autolearn.runner import run, run_experiment
from autolearn.space import ChoiceParam, FloatParam, GridParam, IntParam, SearchSpace
from autolearn.spec import (DatasetSpec, Experiment, MetricSpec, ModelSpec, ResourcesSpec, RunSpec,
                            SchedulerSpec, SearchSpec, SplitSpec, TaskSpec, TrainSpec, load_spec)
from autolearn.strategies import make_search

__all__ = [
    "AutolearnError", "ChoiceParam", "ConfigError", "DataError", "DatasetSpec", "Experiment", "FloatParam",
    "GridParam", "IntParam", "MetricSpec", "ModelSpec", "ResourceError", "ResourcesSpec", "RunSpec",
    "SchedulerSpec", "SearchSpace", "SearchSpec", "SplitSpec", "SweepError", "SweepResult", "TaskSpec",
    "TrainSpec", "get_checkpoint", "load_spec", "make_search", "report", "run", "run_experiment",
]
__version__ = "0.1.0"

"""WHAT to run: the experiment spec, its sections, the search-space language, and plugins.

The lowest layer above `errors`: it imports nothing else of autolearn. A spec is validated when
it is built; the checks that need a component's knowledge are registered by `search` and
`training` (see `validation.py`), so this package never imports the layers above it.
"""
from __future__ import annotations

from autolearn.config.defaults import seed_experiment, seed_spec
from autolearn.config.limits import check_limits
from autolearn.config.sections import (
                                       BUILTIN_METRICS,
                                       TRAIN_TUNABLE,
                                       DatasetSpec,
                                       MetricSpec,
                                       ModelSpec,
                                       ResourcesSpec,
                                       RunSpec,
                                       SchedulerSpec,
                                       SearchSpec,
                                       SplitSpec,
                                       TaskSpec,
                                       TrainSpec,
)
from autolearn.config.space import ChoiceParam, FloatParam, GridParam, IntParam, Param, SearchSpace
from autolearn.config.spec import Experiment, load_spec, read_spec
from autolearn.config.validation import register_check

register_check("limits", check_limits)

__all__ = ["BUILTIN_METRICS", "TRAIN_TUNABLE", "ChoiceParam", "DatasetSpec", "Experiment", "FloatParam",
           "GridParam", "IntParam", "MetricSpec", "ModelSpec", "Param", "ResourcesSpec", "RunSpec",
           "SchedulerSpec", "SearchSpace", "SearchSpec", "SplitSpec", "TaskSpec", "TrainSpec", "load_spec",
           "read_spec", "seed_experiment", "seed_spec"]

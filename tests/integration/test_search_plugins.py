"""A strategy and a scheduler from outside the package, by import path, in a real sweep on Ray."""
from __future__ import annotations

import pytest

from autolearn import Experiment, run_experiment

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.slow]


def test_a_custom_strategy_and_scheduler_factory_run_the_seed_task(seed_dict, storage):
    import custom_plugins

    from autolearn.search import SearchRequest

    data = {**seed_dict, "storage": storage, "train": {**seed_dict["train"], "epochs": 2},
            "task": {**seed_dict["task"], "dataset": {**seed_dict["task"]["dataset"], "n_samples": 300}},
            "search": {"strategy": "custom_plugins:DiagonalSearch", "num_samples": 3, "offset": 0.25},
            "scheduler": {"name": "custom_plugins:stop_at", "at": 1}}
    exp = Experiment.from_dict(data)
    result = run_experiment(exp)
    expected = custom_plugins.DiagonalSearch.configs(SearchRequest.from_experiment(exp))
    configs = [{k: t.config[k] for k in exp.space} for t in result.trials]
    assert sorted(map(repr, configs)) == sorted(map(repr, expected))
    assert all(t.status == "stopped" and t.epochs == 1 for t in result.trials), result.trials  # the scheduler's doing
    assert result.strategy == "custom_plugins:DiagonalSearch"

"""tpe and gp on a real local Ray: the seed spec runs with one word changed.

Resume is covered at the searcher level in tests/unit/search/test_strategies.py (save after 5 of 10
suggestions, restore into a fresh searcher, finish: no repeats, the same suggestions as an
uninterrupted searcher) and end to end by tests/integration/test_faults.py (driver SIGKILL + --resume).
"""
from __future__ import annotations

import pytest

from autolearn import Experiment, run_experiment

pytestmark = pytest.mark.usefixtures("ray_session")


@pytest.mark.parametrize("strategy", ["tpe", "gp"])
def test_seed_spec_runs_with_one_word_changed(seed_dict, storage, strategy):
    data = {**seed_dict, "storage": storage, "train": {**seed_dict["train"], "epochs": 2},
            "task": {**seed_dict["task"], "dataset": {**seed_dict["task"]["dataset"], "n_samples": 300}}}
    data["search"] = {**seed_dict["search"], "strategy": strategy, "num_samples": 4, "max_concurrent": 2,
                      "n_initial_points": 2}
    exp = Experiment.from_dict(data)
    result = run_experiment(exp)
    assert len(result.trials) == 4
    assert all(t.status == "finished" and t.epochs == 2 for t in result.trials)
    configs = [{k: t.config[k] for k in exp.space} for t in result.trials]
    assert all(exp.space.contains(c) for c in configs)
    assert len({repr(sorted(c.items())) for c in configs}) == 4
    assert result.strategy == strategy

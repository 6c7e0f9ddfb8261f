"""bohb with asha on a real local Ray: the seed spec runs end to end, ASHA stops trials early, and
the searcher (as Ray saved it with the experiment) holds the intermediate results of every rung."""
from __future__ import annotations

import glob
import os
import pickle

import pytest

from autolearn import Experiment, run_experiment

pytestmark = pytest.mark.usefixtures("ray_session")


@pytest.mark.slow
def test_bohb_with_asha_runs_the_seed_spec_and_models_every_rung(seed_dict, storage):
    data = {**seed_dict, "storage": storage, "train": {**seed_dict["train"], "epochs": 3},
            "task": {**seed_dict["task"], "dataset": {**seed_dict["task"]["dataset"], "n_samples": 200}}}
    data["search"] = {**seed_dict["search"], "strategy": "bohb", "num_samples": 5, "max_concurrent": 2,
                      "min_points": 2}
    data["scheduler"] = {"name": "asha", "grace_period": 1, "reduction_factor": 3}
    exp = Experiment.from_dict(data)
    result = run_experiment(exp)
    assert len(result.trials) == 5 and result.strategy == "bohb"
    assert all(exp.space.contains({k: t.config[k] for k in exp.space}) for t in result.trials)
    assert {t.epochs for t in result.trials} >= {1, 3}  # some stopped at the first rung, some ran out
    saved = glob.glob(os.path.join(storage, exp.name, "searcher-state-*.pkl"))
    assert saved, os.listdir(os.path.join(storage, exp.name))
    with open(saved[0], "rb") as f:
        state = pickle.load(f)
    searcher = pickle.loads(state["searcher"]) if "searcher" in state else state  # under the concurrency limiter
    losses = searcher["_losses"]
    assert len(losses[1]) == 5 and 0 < len(losses[3]) < 5, losses  # every first rung, the survivors at the last

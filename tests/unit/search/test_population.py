"""pbt and pb2 from the spec, without Ray running: what mutates, within which bounds, and how."""
from __future__ import annotations

import pickle
import random

import custom_plugins

from autolearn.config.space import SearchSpace
from autolearn.config.spec import Experiment
from autolearn.search import make_scheduler
from autolearn.search.population import KeepInSpace, keep_in, mutate_names, population_plan, restores_checkpoints

SPACE = SearchSpace.from_dict({
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "momentum": {"type": "float", "low": 0.5, "high": 0.99},
    "batch_size": {"type": "choice", "values": [16, 32, 64]},
    "hidden_units": {"type": "int", "low": 8, "high": 64, "step": 8},
    "optimizer": {"type": "choice", "values": ["adam", "momentum"]},
})


def test_default_mutate_is_the_space_params_safe_to_change_mid_training():
    assert mutate_names("pbt", SPACE, None) == ("lr", "momentum", "batch_size")
    assert mutate_names("pbt", SPACE, ["hidden_units"]) == ("hidden_units",)


def test_explored_values_stay_in_the_space():
    keep = KeepInSpace({k: SPACE[k] for k in ("lr", "momentum", "hidden_units")})
    out = keep({"lr": 0.5, "momentum": 0.1, "hidden_units": 27.4, "optimizer": "adam"})
    assert out == {"lr": 0.1, "momentum": 0.5, "hidden_units": 24, "optimizer": "adam"}
    assert isinstance(out["hidden_units"], int)
    assert keep_in(SPACE["hidden_units"], 80) == 64
    assert pickle.loads(pickle.dumps(keep)).params == keep.params  # Ray pickles it with the Tuner


def test_pbt_mutates_from_the_space():
    from ray.tune.schedulers import PopulationBasedTraining
    from ray.tune.search.sample import Float

    scheduler = make_scheduler("pbt", {"perturbation_interval": 2, "resample_probability": 0.0}, 8, SPACE)
    assert isinstance(scheduler, PopulationBasedTraining)
    mutations = scheduler._hyperparam_mutations
    assert set(mutations) == {"lr", "momentum", "batch_size"}
    assert mutations["batch_size"] == [16, 32, 64]  # a choice shifts to a neighbouring value
    assert isinstance(mutations["lr"], Float) and mutations["lr"].lower == 1e-4  # resampled log-uniformly
    assert scheduler._perturbation_interval == 2 and scheduler._time_attr == "training_iteration"
    random.seed(0)
    for _ in range(50):  # Ray multiplies by 0.8 or 1.2; the result stays within the bounds
        config, _ = scheduler._get_new_config(None, _Trial({"lr": 0.1, "momentum": 0.99, "batch_size": 64}))
        assert 1e-4 <= config["lr"] <= 0.1 and 0.5 <= config["momentum"] <= 0.99
        assert config["batch_size"] in (32, 64)


def test_pb2_takes_numeric_bounds_and_needs_no_gpy():
    from ray.tune.schedulers.pb2 import PB2

    scheduler = make_scheduler("pb2", {"mutate": ["lr", "momentum"]}, 8, SPACE)
    assert isinstance(scheduler, PB2)
    assert scheduler._hyperparam_bounds == {"lr": [1e-4, 1e-1], "momentum": [0.5, 0.99]}
    assert scheduler._perturbation_interval == 2  # a quarter of the 8 epochs by default


def test_the_plan_the_trainable_receives():
    exp = Experiment.from_dict({"name": "p", "train": {"epochs": 6}, "space": SPACE.to_dict(),
                                "search": {"num_samples": 3},
                                "scheduler": {"name": "pbt", "perturbation_interval": 3, "mutate": ["lr"]}})
    assert population_plan(exp) == (("lr",), 3)
    assert population_plan(Experiment.from_dict({"name": "q", "space": SPACE.to_dict()})) is None


def test_restore_detection():
    assert restores_checkpoints(custom_plugins.checkpointing_trainable) is True
    assert restores_checkpoints(custom_plugins.never_checkpoints) is False
    assert restores_checkpoints(print) is None  # no source to read: not refused


class _Trial:
    def __init__(self, config: dict) -> None:
        self.config = config

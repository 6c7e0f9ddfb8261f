"""The distributed-trial fields of a spec: each bad value or combination is one ConfigError naming its field."""
from __future__ import annotations

import pytest

from autolearn import Experiment
from autolearn.config.sections import ResourcesSpec
from autolearn.errors import ConfigError


@pytest.mark.parametrize("resources, path, words", [
    ({"workers_per_trial": 0}, "resources.workers_per_trial", "must be >= 1, got 0"),
    ({"workers_per_trial": -2}, "resources.workers_per_trial", "must be >= 1, got -2"),
    ({"workers_per_trial": 1.5}, "resources.workers_per_trial", "expected an integer"),
    ({"workers_per_trial": "two"}, "resources.workers_per_trial", "expected a number"),
    ({"workers_per_trial": True}, "resources.workers_per_trial", "expected a number"),
    ({"workers_per_trial": 2, "cpus_per_worker": 0}, "resources.cpus_per_worker", "must be > 0"),
    ({"workers_per_trial": 2, "gpus_per_worker": 1.5}, "resources.gpus_per_worker", "whole number"),
    ({"workers_per_trial": 2, "gpus_per_worker": -1}, "resources.gpus_per_worker", "must be >= 0"),
    ({"cpus_per_worker": 2}, "resources.cpus_per_worker", "only with workers_per_trial > 1"),
    ({"workers_per_trial": 2, "gpus_per_trial": 1}, "resources.gpus_per_trial", "gpus_per_worker instead"),
])
def test_bad_worker_resources_name_the_field(resources, path, words):
    with pytest.raises(ConfigError) as err:
        ResourcesSpec.from_dict(resources)
    assert (err.value.path, "\n" in str(err.value)) == (path, False)
    assert words in str(err.value)


def test_worker_resources_load_and_round_trip(seed_dict):
    exp = Experiment.from_dict({**seed_dict, "resources": {"workers_per_trial": 4, "gpus_per_worker": 1}})
    assert exp.resources == ResourcesSpec(workers_per_trial=4, cpus_per_worker=1.0, gpus_per_worker=1.0)
    assert exp.resources.distributed and not ResourcesSpec().distributed
    assert Experiment.from_dict(exp.to_dict()) == exp


def _refused(seed_dict, **sections):
    with pytest.raises(ConfigError) as err:
        Experiment.from_dict({**seed_dict, "resources": {"workers_per_trial": 2}, **sections})
    return err.value


def test_what_a_distributed_trial_cannot_do_is_refused_at_load_time(seed_dict):
    fused = _refused(seed_dict, search={**seed_dict["search"], "fuse": 4})
    assert fused.path == "search.fuse" and "cannot fuse trials that are each 2 workers" in str(fused)
    auto = _refused(seed_dict, search={**seed_dict["search"], "fuse": "auto"})
    assert auto.path == "search.fuse"
    cv = _refused(seed_dict, task={**seed_dict["task"], "cv": {"folds": 3}})
    assert cv.path == "task.cv" and "workers_per_trial=2" in str(cv)
    own = _refused({"name": "own"}, task={"trainable": "autolearn.testing.faults:faulty_mlp"},
                   metric={"name": "score", "mode": "max"})
    assert own.path == "resources.workers_per_trial" and "built-in training loop only" in str(own)

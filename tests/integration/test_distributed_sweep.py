"""Distributed trials on the session's real Ray (2 CPUs): 2 Ray Train workers over gloo, half a CPU each.

The equivalence: `train.batch_size` is the global batch, so one epoch of 2 DDP workers must end
where one process ends with the same batch (same loss, same weights, to float tolerance). The
sweep: a 2-worker trial trains, checkpoints, fails once and goes on from its checkpoint on both
ranks; another is stopped by ASHA; the driver sees every epoch and the best model is scored.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from autolearn import Experiment, run_experiment
from autolearn.config.sections import ModelSpec, ResourcesSpec, TrainSpec
from autolearn.errors import ResourceError
from autolearn.training.data import load_dataset
from autolearn.training.loop import Fitter, TrainJob
from autolearn.training.trainable import load_checkpoint_state

pytestmark = pytest.mark.usefixtures("ray_session")
TWO_WORKERS = {"workers_per_trial": 2, "cpus_per_worker": 0.5}


def _job(batch_size: int) -> TrainJob:
    data = load_dataset("synthetic_classification",
                        {"n_samples": 250, "n_features": 6, "n_informative": 3, "n_classes": 3})
    return TrainJob(data, ModelSpec("mlp", {"hidden_units": 16}),
                    TrainSpec(epochs=1, seed=7, batch_size=batch_size, optimizer="sgd", lr=0.1, momentum=0.9))


@pytest.mark.slow
def test_one_ddp_epoch_equals_one_process_over_the_same_global_batch(tmp_path):
    from autolearn.training.ddp_trainable import make_trainer

    job = _job(batch_size=35)  # 160 training rows: the last global batch (20) splits 10/10, others 18/17
    assert len(job.data.x_train) % 35 != 0
    single = Fitter(job, {}, torch.device("cpu"))
    train_loss = single.train_epoch()
    val_loss, _ = single.validate()

    result = make_trainer(job, {}, ResourcesSpec(**TWO_WORKERS), str(tmp_path), callbacks=[]).fit()
    assert result.metrics["workers"] == 2
    assert result.metrics["train_loss"] == pytest.approx(train_loss, rel=1e-5)
    assert result.metrics["val_loss"] == pytest.approx(val_loss, rel=1e-5)
    with result.checkpoint.as_directory() as directory:
        weights = load_checkpoint_state(directory)["model"]
    for name, tensor in single.model.state_dict().items():
        torch.testing.assert_close(weights[name], tensor, rtol=1e-5, atol=1e-6)


def _reported_epochs(experiment_dir: str, trial_id: str) -> list[int]:
    """The epochs the driver saw the trial report, in order, read from its TensorBoard run.

    Not from the trial's result.json: when Tune restarts a failed trial, its JSON logger copies
    that file back from the experiment's storage (`_restore_from_remote`), which may not hold the
    latest rows yet, so the file can lose reports that were made."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    short = trial_id.rsplit("_", 1)[-1]
    [run] = [p for p in (Path(experiment_dir) / "tensorboard").iterdir() if p.is_dir() and p.name.startswith(short)]
    events = EventAccumulator(str(run))
    events.Reload()
    return [int(e.step) for e in events.Scalars("val/loss")]


def _cpus_back(expected: float, timeout_s: float = 60.0) -> bool:
    """The workers' placement groups are gone once the cluster's CPUs are all free again."""
    import ray

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ray.available_resources().get("CPU", 0.0) >= expected:
            return True
        time.sleep(0.5)
    return False


@pytest.mark.slow
def test_two_worker_trials_checkpoint_resume_and_are_stopped_by_asha(storage):
    # In order (max_concurrent 1): a good lr that fails once at epoch 2 and goes on from its
    # epoch-1 checkpoint, then a hopeless lr that ASHA stops at its first rung.
    exp = Experiment.from_dict({
        "name": "ddp", "storage": storage,
        "task": {"dataset": {"name": "synthetic_classification", "n_samples": 200, "n_features": 6}},
        "model": {"name": "autolearn.testing.faults:faulty_mlp", "fault": "raise", "at_epoch": 2,
                  "hidden_units": 8, "depth": 1},
        "train": {"epochs": 2, "batch_size": 32, "seed": 0, "checkpoint_every": 1},
        "space": {"lr": {"type": "grid", "values": [0.3, 1e-7]}},
        "search": {"strategy": "grid", "max_concurrent": 1},
        "scheduler": {"name": "asha", "grace_period": 1, "reduction_factor": 2},
        "metric": {"name": "val_loss", "mode": "min"},
        "resources": TWO_WORKERS,
        "run": {"max_failures": 1},
    })
    result = run_experiment(exp)
    good, hopeless = sorted(result.trials, key=lambda t: -t.config["lr"])
    assert (good.status, good.epochs, good.retries) == ("finished", 2, 1), good
    assert _reported_epochs(result.experiment_dir, good.trial_id) == [1, 2]  # the retry went on from epoch 1
    assert good.metrics["workers"] == 2
    assert (hopeless.status, hopeless.epochs) == ("stopped", 1), hopeless
    assert result.best_trial_id == good.trial_id and "test_loss" in result.test_scores, result.test_error
    runs = list((Path(result.experiment_dir) / "tensorboard").iterdir())
    assert len(runs) >= 2, runs
    assert not list(Path(good.path).glob("ddp-*")), "the workers' own checkpoint copies were left behind"
    assert _cpus_back(2.0), "a stopped trial's workers still hold their CPUs"


def test_more_workers_than_the_cluster_holds_fail_before_any_trial(seed_dict, storage):
    exp = Experiment.from_dict({**seed_dict, "storage": storage,
                                "resources": {"workers_per_trial": 3, "cpus_per_worker": 1}})
    with pytest.raises(ResourceError) as err:
        run_experiment(exp)
    assert str(err.value).startswith("resources.workers_per_trial: 3 workers of CPU=1 each do not fit")
    assert "hold 2 such workers and there is no autoscaler" in str(err.value)
    assert not list(Path(storage).glob("*/train_distributed_trial_*")), "a trial started"

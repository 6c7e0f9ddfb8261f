"""A fused sweep on one CPU-only machine trains in the driver's own process: Ray is never started,
and every member is still its own Tune trial (result files, checkpoints, TensorBoard run, scheduler)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from autolearn import Experiment, run_experiment
from autolearn.execution.fusion.plan import fuse_factor, why_not
from autolearn.testing.solo import solo_val_losses

EPOCHS, TRIALS = 3, 6


def _spec(seed_dict: dict, storage: str, name: str, scheduler: str = "fifo", fuse: int | str = 4) -> Experiment:
    data = {**seed_dict, "storage": storage, "name": name}
    data["task"] = {**seed_dict["task"], "dataset": {**seed_dict["task"]["dataset"], "n_samples": 300}}
    data["train"] = {**seed_dict["train"], "epochs": EPOCHS}
    data["search"] = {"strategy": "random", "num_samples": TRIALS, "seed": 3, "fuse": fuse}
    asha = {"grace_period": 1, "reduction_factor": 2} if scheduler == "asha" else {}
    data["scheduler"] = {"name": scheduler, **asha}
    return Experiment.from_dict(data)


def test_in_process_fused_sweep_starts_no_ray_and_keeps_every_member_a_trial(seed_dict, storage):
    import ray

    threads = torch.get_num_threads()
    exp = _spec(seed_dict, storage, "inproc")
    try:
        result = run_experiment(exp)
    finally:
        torch.set_num_threads(threads)
    assert not ray.is_initialized()
    assert len({t.trial_id for t in result.trials}) == TRIALS
    assert all(t.status == "finished" and t.epochs == EPOCHS for t in result.trials)
    assert result.test_scores and result.best_checkpoint_path
    for trial in result.trials:
        history = [json.loads(line) for line in (Path(trial.path) / "result.json").read_text().splitlines()]
        assert [h["training_iteration"] for h in history] == list(range(1, EPOCHS + 1))
        assert [h["val_loss"] for h in history] == pytest.approx(solo_val_losses(exp, history[0]["config"]), rel=1e-5)
        assert any(p.name.startswith("checkpoint_") for p in Path(trial.path).iterdir())
    runs = [p for p in (Path(result.experiment_dir) / "tensorboard").iterdir() if p.is_dir()]
    assert len(runs) == TRIALS


def test_asha_stops_members_one_by_one_in_process(seed_dict, storage):
    threads = torch.get_num_threads()
    try:
        result = run_experiment(_spec(seed_dict, storage, "inproc-asha", scheduler="asha"))
    finally:
        torch.set_num_threads(threads)
    epochs = sorted(t.epochs for t in result.trials)
    assert epochs[0] < EPOCHS and epochs[-1] == EPOCHS, epochs
    assert {t.status for t in result.trials} <= {"finished", "stopped"}


def test_auto_fills_the_slots_in_one_round_and_says_so(seed_dict, storage, caplog):
    exp = _spec(seed_dict, storage, "auto", fuse="auto")
    from autolearn.execution.runner import prepare_job

    with caplog.at_level(logging.WARNING):
        assert fuse_factor(exp, prepare_job(exp), expected_trials=100, cpus=2, free_memory=2**33) == 32
        assert fuse_factor(exp, prepare_job(exp), expected_trials=10, cpus=2, free_memory=2**33) == 5
    assert "auto chose K=5" in caplog.text


def test_what_cannot_fuse_says_why(seed_dict, storage):
    data = {**seed_dict, "storage": storage, "name": "x", "search": {**seed_dict["search"], "fuse": 4}}
    assert why_not(Experiment.from_dict(data)) is None
    hyperband = Experiment.from_dict({**data, "scheduler": {"name": "hyperband"}})
    assert "pauses" in (why_not(hyperband) or "")


def test_a_member_whose_epoch_raises_is_retried_alone_from_its_last_checkpoint(seed_dict, storage, tmp_path):
    """A member's epoch raises (a real fault in its model, which trains one by one beside the fused
    core): only that member fails, it is retried from its last checkpoint, and the sweep finishes."""
    data = _spec(seed_dict, storage, "retry").to_dict()
    data["model"] = {"name": "autolearn.testing.faults:faulty_mlp", "fault": "raise", "at_epoch": 2,
                     "hidden_units": 8, "marker_dir": str(tmp_path)}
    data["space"] = {"lr": data["space"]["lr"]}
    data["train"] = {**data["train"], "checkpoint_every": 1}
    data["run"] = {"max_failures": 1}
    threads = torch.get_num_threads()
    try:
        result = run_experiment(Experiment.from_dict(data))
    finally:
        torch.set_num_threads(threads)
    assert (tmp_path / ".autolearn_fault_injected").is_file()
    assert all(t.status == "finished" and t.epochs == EPOCHS for t in result.trials), result.trials
    assert sorted(t.retries for t in result.trials) == [0] * (TRIALS - 1) + [1]  # the others never noticed
    for trial in result.trials:
        epochs = [json.loads(line)["training_iteration"]
                  for line in (Path(trial.path) / "result.json").read_text().splitlines()]
        assert epochs.count(1) == 1 and epochs[-1] == EPOCHS, epochs  # went on from its checkpoint


ALL_PER_TRIAL = 8 * 1024  # the whole driver heap per finished trial (an unfused sweep: ~45 KiB, Tune's Trials)


def test_driver_heap_stays_flat_as_members_finish(seed_dict, storage):
    """Measured, not timed: the whole Python heap between the 8th and the 64th finished member. Ended
    trials are frozen to their saved state (a few KB), not kept as Tune `Trial` objects."""
    import gc
    import tracemalloc

    from ray import tune

    first, total, at = 8, 64, {}

    class Snapshots(tune.Callback):
        done = 0

        def on_trial_complete(self, iteration, trials, trial, **info):
            self.done += 1
            if self.done in (first, total):
                gc.collect()
                at[self.done] = tracemalloc.take_snapshot()

    data = {**seed_dict, "storage": storage, "name": "memory"}
    data["task"] = {**seed_dict["task"], "dataset": {**seed_dict["task"]["dataset"], "n_samples": 120}}
    data["train"] = {**seed_dict["train"], "epochs": 1}
    data["search"] = {"strategy": "random", "num_samples": total, "seed": 1, "fuse": 8}
    threads = torch.get_num_threads()
    tracemalloc.start(1)
    try:
        result = run_experiment(Experiment.from_dict(data), callbacks=[Snapshots()])
    finally:
        tracemalloc.stop()
        torch.set_num_threads(threads)
    assert len(result.trials) == total and set(at) == {first, total}
    grown = sum(d.size_diff for d in at[total].compare_to(at[first], "filename"))
    assert grown / (total - first) <= ALL_PER_TRIAL, f"the driver holds {grown / (total - first):.0f} B more per trial"


def test_members_measure_their_model_costs_when_an_objective_names_them(seed_dict, storage):
    exp = _spec(seed_dict, storage, "costs").to_dict()
    exp["metric"] = [{"name": "val_accuracy", "mode": "max"}, {"name": "n_params", "mode": "min"}]
    exp["constraints"] = [{"metric": "latency_ms", "max": 1000.0}]
    threads = torch.get_num_threads()
    try:
        result = run_experiment(Experiment.from_dict(exp))
    finally:
        torch.set_num_threads(threads)
    for trial in result.trials:
        last = json.loads((Path(trial.path) / "result.json").read_text().splitlines()[-1])
        hidden = last["config"]["hidden_units"]
        assert last["n_params"] == (20 * hidden + hidden) + (hidden * hidden + hidden) + (hidden + 1)
        assert last["latency_ms"] > 0
    assert result.pareto and all(t.status == "finished" for t in result.trials)


@pytest.mark.parametrize("scheduler, strategy", [("median", "random"), ("asha", "bohb"), ("fifo", "gp"),
                                                 ("fifo", "grid"), ("fifo", "motpe")])
def test_every_strategy_and_early_stopping_scheduler_drives_fused_members(seed_dict, storage, scheduler, strategy):
    """Tune's own search algorithms and schedulers, driven per member in the driver's process (the
    median rule's lambda is saved with the sweep's state, as Tune keeps it)."""
    data = _spec(seed_dict, storage, f"{scheduler}-{strategy}", scheduler=scheduler).to_dict()
    data["search"]["strategy"] = strategy
    if strategy == "grid":
        data["space"] = {"lr": {"type": "choice", "values": [1e-3, 1e-2]},
                         "optimizer": {"type": "choice", "values": ["sgd", "adam"]}}
        data["search"]["num_samples"] = 1
    if scheduler == "median":
        data["scheduler"] = {"name": "median", "grace_period": 1, "min_samples_required": 2}
    threads = torch.get_num_threads()
    try:
        result = run_experiment(Experiment.from_dict(data))
    finally:
        torch.set_num_threads(threads)
    assert len({tuple(sorted(t.config.items())) for t in result.trials}) == len(result.trials) == (
        4 if strategy == "grid" else TRIALS)
    assert {t.status for t in result.trials} <= {"finished", "stopped"} and result.test_scores
    assert (Path(result.experiment_dir) / "fused-state.pkl").is_file()


def test_a_trial_bigger_than_this_machine_is_refused_in_one_line_before_any_training(seed_dict, storage):
    """In process, this machine is the only node: the same one-line error a cluster gives."""
    from autolearn.errors import ResourceError
    from autolearn.execution.fusion import local_cpus

    data = _spec(seed_dict, storage, "too-big").to_dict()
    data["resources"] = {"cpus_per_trial": local_cpus() + 1}
    with pytest.raises(ResourceError) as caught:
        run_experiment(Experiment.from_dict(data))
    message = str(caught.value)
    assert "\n" not in message and "lower resources.cpus_per_trial" in message
    assert not list(Path(storage, "too-big").glob("train_trial_*"))

"""The LR range test, `space.lr: auto`, and the batch-size finder on real torch (seed task, CPU)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from autolearn import ConfigError, Experiment, FloatParam
from autolearn.config.defaults import seed_spec
from autolearn.config.space import AUTO_RANGE, param_from_dict
from autolearn.training.auto import resolve_auto, resolve_batch_size
from autolearn.training.batch_size import MB, find_batch_size, step_memory
from autolearn.training.loop import Fitter, TrainJob
from autolearn.training.lr_finder import lr_range_test, plot_range_test, suggest

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def job() -> TrainJob:
    from autolearn.execution.runner import prepare_job

    return prepare_job(Experiment.from_dict(seed_spec()))


def _state(fitter: Fitter) -> tuple[list[torch.Tensor], dict, torch.Tensor]:
    return ([p.detach().clone() for p in fitter.model.parameters()], fitter.optimizer.state_dict(),
            fitter.generator.get_state())


def _same_state(fitter: Fitter, saved: tuple) -> None:
    params, opt, gen = saved
    assert all(torch.equal(a, b) for a, b in zip(fitter.model.parameters(), params))
    now = fitter.optimizer.state_dict()
    assert now["param_groups"] == opt["param_groups"] and now["state"].keys() == opt["state"].keys()
    assert torch.equal(fitter.generator.get_state(), gen)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_suggestion_lies_in_the_falling_part_of_the_loss_curve(job, optimizer, tmp_path):
    fitter = Fitter(job, {"optimizer": optimizer}, CPU)
    test = lr_range_test(fitter, steps=150)
    lrs, losses = np.array(test.lrs), np.array(test.losses)
    at = int(np.searchsorted(lrs, test.suggestion))
    assert lrs[0] < test.suggestion < lrs[int(np.argmin(losses))]  # before the minimum
    assert losses[at] < losses[0]                                     # already below the start
    assert losses[min(at + 3, len(losses) - 1)] < losses[max(at - 3, 0)]  # and still falling there
    low, high = test.bounds()
    assert low == pytest.approx(test.suggestion / 10) and high == pytest.approx(test.suggestion * 10)
    assert plot_range_test(test, tmp_path / "lr.png").stat().st_size > 0


def test_range_test_restores_the_model_optimizer_and_shuffling(job):
    fitter = Fitter(job, {"optimizer": "momentum", "lr": 0.05}, CPU)
    fitter.train_epoch()  # some optimizer state worth restoring
    saved = _state(fitter)
    lr_range_test(fitter, steps=60)
    _same_state(fitter, saved)
    assert fitter.lr == 0.05


def test_a_loss_that_never_falls_is_a_clear_error():
    lrs = list(np.logspace(-3, 1, 30))
    with pytest.raises(ConfigError, match="space.lr.auto: the loss did not fall"):
        suggest(lrs, list(np.linspace(1, 5, 30)))


def test_auto_param_dict_form():
    p = param_from_dict({"type": "float", "auto": True}, "space.lr")
    assert p == FloatParam(*AUTO_RANGE, log=True, auto=True)
    assert param_from_dict(p.to_dict(), "space.lr") == p
    given = param_from_dict({"type": "float", "auto": True, "low": 1e-5, "high": 1}, "space.lr")
    assert (given.low, given.high, given.log) == (1e-5, 1.0, True)


@pytest.mark.parametrize("space, message", [
    ({"weight_decay": {"type": "float", "auto": True}}, "space.weight_decay.auto: only space.lr of the built-in "
     "loop can be auto"),
    ({"lr": {"type": "float", "auto": "yes"}}, "space.lr.auto: expected true or false"),
    ({"lr": {"type": "float", "auto": True, "step": 0.1, "log": False}}, "space.lr.auto: an auto range is"),
    ({"lr": {"type": "int", "auto": True, "low": 1, "high": 2}}, "space.lr.auto: unknown key for a int"),
])
def test_auto_on_anything_but_a_learning_rate_is_a_load_time_error(space, message):
    spec = seed_spec()
    spec["space"] = space
    with pytest.raises(ConfigError, match=message) as err:
        Experiment.from_dict(spec)
    assert "\n" not in str(err.value)


def test_auto_with_a_user_trainable_is_an_error():
    with pytest.raises(ConfigError, match="space.lr.auto: .*a user trainable has no model"):
        Experiment.from_dict({"task": {"trainable": "os:getcwd"}, "metric": "score",
                              "space": {"lr": {"type": "float", "auto": True}}})


def test_resolve_auto_gives_bounds_per_optimizer_and_records_them():
    spec = seed_spec()
    spec["space"] = {"lr": {"type": "float", "auto": True},
                     "optimizer": {"type": "choice", "values": ["sgd", "adam"]}}
    exp, notes = resolve_auto(Experiment.from_dict(spec))
    lr = exp.space["lr"]
    found = notes["auto"]["lr"]
    assert isinstance(lr, FloatParam) and lr.log and not lr.auto
    assert (lr.low, lr.high) == (found["low"], found["high"])
    assert set(found["optimizers"]) == {"sgd", "adam"}
    for bounds in found["optimizers"].values():
        assert lr.low <= bounds["suggestion"] <= lr.high
    assert "steepest" in found["rule"]


def test_cpu_batch_fits_the_memory_budget_and_the_data(job):
    fitter = Fitter(job, {"batch_size": 1}, CPU)
    fixed, per_sample = step_memory(fitter)
    budget = (fixed + 40 * per_sample) / MB  # room for 40 samples
    saved = _state(fitter)
    found = find_batch_size(fitter, budget)
    _same_state(fitter, saved)
    assert 1 <= found.batch_size <= 40
    assert fixed + found.batch_size * per_sample <= budget * MB
    assert all(t["batch_size"] <= 40 for t in found.tried)
    roomy = find_batch_size(fitter, 10_000)
    assert roomy.batch_size <= len(fitter.x_train) and max(t["batch_size"] for t in roomy.tried) == len(fitter.x_train)


def test_no_room_for_one_sample_is_an_error_naming_the_field(job):
    fitter = Fitter(job, {"batch_size": 1}, CPU)
    fixed, per_sample = step_memory(fitter)
    with pytest.raises(ConfigError, match=r"train.batch_memory_mb: .* leaves no room for one sample.*allow at least"):
        find_batch_size(fitter, (fixed + per_sample / 2) / MB)


@pytest.mark.parametrize("rule, factor", [("linear", lambda b: b / 32), ("sqrt", lambda b: (b / 32) ** 0.5)])
def test_lr_scales_with_the_found_batch(job, rule, factor):
    spec = seed_spec()
    spec["train"] = {**spec["train"], "batch_size": "auto", "lr_scaling": rule, "batch_memory_mb": 1, "lr": 0.01}
    spec["space"] = {"lr": {"type": "float", "low": 0.001, "high": 0.1, "log": True}}
    exp, notes = resolve_batch_size(Experiment.from_dict(spec), job, CPU)
    b = exp.train.batch_size
    assert isinstance(b, int) and notes["batch_size"] == b
    assert exp.train.lr == pytest.approx(0.01 * factor(b))
    assert exp.space["lr"].low == pytest.approx(0.001 * factor(b))


@pytest.mark.parametrize("train, space, message", [
    ({"batch_memory_mb": 100}, None, "train.batch_memory_mb: is used only with batch_size: auto"),
    ({"lr_scaling": "linear"}, None, "train.lr_scaling: is used only with batch_size: auto"),
    ({"batch_size": "auto", "lr_scaling": "cubic"}, None, "train.lr_scaling: unknown lr scaling 'cubic'"),
    ({"batch_size": "auto", "batch_memory_mb": 0}, None, "train.batch_memory_mb: must be > 0.0"),
    ({"batch_size": "auto"}, {"batch_size": {"type": "choice", "values": [16, 32]}},
     "space.batch_size: train.batch_size is auto"),
    ({}, {"batch_size": {"type": "choice", "values": [16, "auto"]}}, "space.batch_size.values: "),
])
def test_bad_batch_size_finder_settings(train, space, message):
    spec = seed_spec()
    spec["train"] = {**spec["train"], **train}
    spec["space"] = space or {}
    with pytest.raises(ConfigError, match=message) as err:
        Experiment.from_dict(spec)
    assert "\n" not in str(err.value)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_finder_doubles_then_bisects_to_a_batch_that_runs(job):
    fitter = Fitter(job, {"batch_size": 1}, torch.device("cuda", 0))
    found = find_batch_size(fitter, limit=10_000)
    assert found.batch_size == len(fitter.x_train)  # the seed task fits whole on any GPU
    assert [t["batch_size"] for t in found.tried][:2] == [32, 64]


def _width_out_of_memory_near(batch: int) -> int:
    """The hidden width of a one-layer MLP whose training step runs out of this GPU's memory at
    about `batch` rows, whatever the card (8 GB or 139 GB): a step keeps about four floats per
    hidden unit and row (the layer's output, its activation and their gradients), 16 bytes, so
    the doubling from 32 reaches out-of-memory in about log2(batch / 32) = 6 steps and the
    bisection takes about log2(batch) more, all on small batches (seconds in all). A fixed width
    sized for a small card made a 139 GB card double to batches of 500,000 rows of a 16384-wide
    two-layer net (minutes). The weights, gradients and Adam state (16 bytes per parameter,
    74 parameters per unit on digits) stay under 4% of the card."""
    total = torch.cuda.get_device_properties(0).total_memory
    return max(1024, total // (16 * batch))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_finder_bisects_below_the_first_out_of_memory_batch():
    from autolearn.training.batch_size import _gpu, _step
    from autolearn.training.data import load_dataset

    data = load_dataset("digits", {}, 0.2, 0.2, 42)
    width = _width_out_of_memory_near(2048)
    exp = Experiment.from_dict({"model": {"name": "mlp", "hidden_units": width, "depth": 1}})
    fitter = Fitter(TrainJob(data=data, model=exp.model, train=exp.train), {"batch_size": 1}, torch.device("cuda", 0))
    found = _gpu(fitter, limit=10 ** 8)  # rows repeat past the data: only memory stops the doubling
    too_big = [t["batch_size"] for t in found.tried if not t["fits"]]
    assert too_big and found.batch_size < min(too_big)
    _step(fitter, found.batch_size)  # and the batch it found runs


def test_errors_other_than_out_of_memory_are_raised(job):
    from autolearn.training.batch_size import _fits

    fitter = Fitter(job, {"batch_size": 1}, CPU)
    fitter.x_train = fitter.x_train[:, :3]  # the model expects 20 features: a shape error, not memory
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        _fits(fitter, 4, [])

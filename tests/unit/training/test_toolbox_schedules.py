"""Warm-up schedules through the real loop, and the update rules of gd and Adam checked by hand."""
from __future__ import annotations

import pytest
import torch

from autolearn import ConfigError, Experiment
from autolearn.config.defaults import seed_spec
from autolearn.training.loop import Fitter, TrainJob
from autolearn.training.optim import SCHEDULES, make_optimizer, step_schedule
from autolearn.training.schedules import WarmupCosine, warmup_epochs

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def job() -> TrainJob:
    from autolearn.training.data import load_dataset

    exp = Experiment.from_dict({"train": {"epochs": 8, "lr": 0.01}})
    data = load_dataset("synthetic_classification", {"n_samples": 200}, 0.2, 0.2, 42)
    return TrainJob(data=data, model=exp.model, train=exp.train)


def _rates(job: TrainJob, **config) -> list[float]:
    fitter = Fitter(job, config, CPU)
    rates = []
    for _ in range(fitter.settings.epochs):
        rates.append(fitter.lr)  # the rate the trainable reports as `lr` for this epoch
        val_loss, _ = fitter.validate()
        fitter.train_epoch()
        step_schedule(fitter.settings.lr_schedule, fitter.schedule, val_loss)
    return rates


@pytest.mark.parametrize("name", ["warmup_cosine", "one_cycle"])
@pytest.mark.parametrize("warmup", [1, 3])
def test_rate_rises_for_the_warm_up_then_falls(job, name, warmup):
    rates = _rates(job, lr_schedule=name, lr_warmup_epochs=warmup)
    peak = rates.index(max(rates))
    assert peak == warmup
    assert max(rates) == pytest.approx(0.01)
    assert all(a < b for a, b in zip(rates[:peak], rates[1:peak + 1]))
    assert all(a > b for a, b in zip(rates[peak:], rates[peak + 1:]))
    assert rates[-1] > 0


def test_fraction_wins_over_epochs_and_is_clamped():
    class S:
        lr_warmup_epochs = 1
        lr_warmup_fraction = 0.5

    assert warmup_epochs(S(), 8) == 4
    S.lr_warmup_fraction = None
    S.lr_warmup_epochs = 20
    assert warmup_epochs(S(), 8) == 7  # searched values past the budget keep one epoch at the peak


def test_warmup_cosine_ends_at_the_floor_like_cosine():
    factor = WarmupCosine(epochs=10, warmup=2, floor=0.1)
    assert factor(0) == pytest.approx(1 / 3) and factor(2) == pytest.approx(1.0)
    assert 0.1 < factor(9) < 0.2 and factor(10) == pytest.approx(0.1)


@pytest.mark.parametrize("name", ["warmup_cosine", "one_cycle"])
def test_schedule_state_resumes_where_it_stopped(job, name):
    a = Fitter(job, {"lr_schedule": name, "lr_warmup_epochs": 2}, CPU)
    for _ in range(3):
        a.optimizer.step()  # no gradients: changes nothing, but keeps torch's step order
        a.schedule.step()
    b = Fitter(job, {"lr_schedule": name, "lr_warmup_epochs": 2}, CPU)
    b.load_state(a.state(3))
    for _ in range(3):
        assert a.lr == pytest.approx(b.lr)
        for fitter in (a, b):
            fitter.optimizer.step()
            fitter.schedule.step()


def test_warmup_schedules_are_registered_and_searchable():
    assert {"warmup_cosine", "one_cycle"} <= set(SCHEDULES)
    spec = seed_spec()
    spec["space"] = {"lr_schedule": {"type": "choice", "values": ["warmup_cosine", "one_cycle"]},
                     "lr_warmup_fraction": {"type": "float", "low": 0.1, "high": 0.5}}
    Experiment.from_dict(spec)


@pytest.mark.parametrize("train, space, message", [
    ({"lr_schedule": "warmup_cosine", "epochs": 3, "lr_warmup_epochs": 3}, None,
     "train.lr_warmup_epochs: must be below train.epochs (3), got 3"),
    ({"lr_warmup_fraction": 1.5}, None, "train.lr_warmup_fraction: must be <= 0.99, got 1.5"),
    ({"lr_warmup_epochs": -1}, None, "train.lr_warmup_epochs: must be >= 0, got -1"),
    ({}, {"lr_warmup_fraction": {"type": "float", "low": 0.1, "high": 2.0}},
     "space.lr_warmup_fraction.high: must be <= 0.99, got 2.0"),
    ({"lr_schedule": "warmup"}, None, "train.lr_schedule: unknown lr schedule 'warmup'; allowed: .*'one_cycle'"),
])
def test_bad_warmup_settings_are_one_line_errors(train, space, message):
    spec = seed_spec()
    spec["train"] = {**spec["train"], **train}
    if space is not None:
        spec["space"] = space
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        Experiment.from_dict(spec)
    assert "\n" not in str(err.value)


def _model_and_batch() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    return model, x, y


def test_one_gd_step_is_one_full_batch_sgd_step(job):
    fitter = Fitter(job, {"optimizer": "gd", "lr": 0.1}, CPU)
    assert fitter.batch_size == len(fitter.x_train)  # gd: the batch is the whole training split
    before = [p.detach().clone() for p in fitter.model.parameters()]
    fitter.model.zero_grad()
    fitter._loss(fitter.model(fitter.x_train), fitter.y_train).backward()
    grads = [p.grad.clone() for p in fitter.model.parameters()]
    torch.manual_seed(0)  # the epoch's shuffle does not matter for one full batch
    fitter.train_epoch()
    for p, p0, g in zip(fitter.model.parameters(), before, grads):
        assert torch.allclose(p, p0 - 0.1 * g, atol=1e-6)


def test_one_adam_step_matches_the_formula_by_hand():
    model, x, y = _model_and_batch()
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    before = [p.detach().clone() for p in model.parameters()]
    opt = make_optimizer("adam", model.parameters(), lr)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    grads = [p.grad.clone() for p in model.parameters()]
    opt.step()
    for p, p0, g in zip(model.parameters(), before, grads):
        m_hat = (1 - b1) * g / (1 - b1)          # m1 = (1-β1)g, bias-corrected by 1-β1^1
        v_hat = (1 - b2) * g * g / (1 - b2)      # v1 = (1-β2)g², bias-corrected by 1-β2^1
        assert torch.allclose(p, p0 - lr * m_hat / (v_hat.sqrt() + eps), atol=1e-7)

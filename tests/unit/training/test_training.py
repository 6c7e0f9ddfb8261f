"""The built-in loop's parts on tiny real problems: optimizers, schedules, data, models, one fit."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autolearn.config import ModelSpec, TrainSpec
from autolearn.errors import ConfigError
from autolearn.training.data import DATASETS, load_dataset
from autolearn.training.loop import Fitter, TrainJob, evaluate_on_test
from autolearn.training.models import build_model
from autolearn.training.optim import OPTIMIZERS, SCHEDULES, make_optimizer, make_schedule, step_schedule


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_lowers_the_loss(name):
    torch.manual_seed(0)
    x = torch.randn(64, 5)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0])
    model = torch.nn.Linear(5, 1)
    opt = make_optimizer(name, model.parameters(), lr=0.01, weight_decay=0.0, momentum=0.9)
    loss = lambda: torch.nn.functional.mse_loss(model(x).squeeze(1), y)
    before = float(loss().detach())
    for _ in range(20):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert float(loss().detach()) < before * 0.9


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_schedule_steps_and_never_raises_the_rate(name):
    model = torch.nn.Linear(2, 1)
    opt = make_optimizer("sgd", model.parameters(), lr=0.1)
    settings = TrainSpec(lr_schedule=name, lr_step_size=1, lr_gamma=0.5, lr_patience=0)
    schedule = make_schedule(name, opt, 5, settings)
    rates = []
    for _ in range(4):
        opt.step()
        step_schedule(name, schedule, val_loss=1.0)  # a flat loss: plateau decays too
        rates.append(opt.param_groups[0]["lr"])
    assert all(b <= a + 1e-12 for a, b in zip([0.1] + rates, rates))
    if name != "constant":
        assert rates[-1] < 0.1
    else:
        assert rates == [0.1] * 4


def test_datasets_split_standardise_and_encode():
    data = load_dataset("synthetic_classification", {"n_samples": 500, "random_state": 0}, 0.2, 0.25, 0)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (300, 100, 100)
    assert data.n_classes == 2 and data.n_outputs == 1
    assert np.allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    digits = load_dataset("digits", {})
    assert digits.n_classes == 10 and digits.n_outputs == 10 and digits.input_shape == (64,)


def test_csv_with_string_labels(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["f1,f2,label"] + [f"{a:.3f},{b:.3f},{'cat' if a > 0 else 'dog'}" for a, b in rng.normal(size=(60, 2))]
    (tmp_path / "t.csv").write_text("\n".join(rows))
    data = load_dataset("csv", {"path": str(tmp_path / "t.csv"), "target": "label"})
    assert data.classes == ("cat", "dog") and data.input_shape == (2,)


def test_csv_with_text_features_is_rejected(tmp_path):
    (tmp_path / "t.csv").write_text("f1,colour,y\n1,red,0\n2,blue,1\n")
    with pytest.raises(ConfigError, match="not numeric: colour"):
        load_dataset("csv", {"path": str(tmp_path / "t.csv"), "target": "y"})


@pytest.mark.parametrize("name, params, shape", [
    ("mlp", {"hidden_units": 8, "depth": 3, "activation": "tanh", "dropout": 0.1}, (20,)),
    ("mlp", {"depth": 0}, (20,)),
    ("cnn", {"channels": 4}, (64,)),
    ("cnn", {"channels": 4}, (1, 8, 8)),
])
def test_models_map_inputs_to_logits(name, params, shape):
    model = build_model(name, params, shape, 3)
    assert model(torch.zeros(5, *shape)).shape == (5, 3)


def test_unknown_activation_names_the_field():
    with pytest.raises(ConfigError) as err:
        build_model("mlp", {"activation": "swish2"}, (4,), 1)
    assert err.value.path == "model.activation" and "'relu'" in str(err.value)


@pytest.mark.parametrize("optimizer, lr, epochs", [("gd", 0.5, 40), ("adam", 0.01, 5)])
def test_fitter_learns_the_seed_task_and_scores_the_test_split(optimizer, lr, epochs):
    data = load_dataset("synthetic_classification", {"random_state": 42})
    job = TrainJob(data, ModelSpec(), TrainSpec(epochs=epochs, optimizer=optimizer, lr=lr))
    fitter = Fitter(job, {}, torch.device("cpu"))
    if optimizer == "gd":  # full batch: one step per epoch
        assert fitter.batch_size == len(data.x_train)
    losses = [fitter.train_epoch() for _ in range(epochs)]
    assert losses[-1] < losses[0]
    val_loss, val_acc = fitter.validate()
    assert math.isfinite(val_loss) and val_acc > 0.6
    scores = evaluate_on_test(job, {}, fitter.state(5))
    assert set(scores) == {"test_loss", "test_accuracy"} and scores["test_accuracy"] > 0.6


def test_config_routes_keys_to_train_and_model():
    data = load_dataset("synthetic_classification", {"n_samples": 100})
    job = TrainJob(data, ModelSpec("mlp", {"hidden_units": 8}), TrainSpec())
    fitter = Fitter(job, {"lr": 0.5, "optimizer": "rmsprop", "hidden_units": 3}, torch.device("cpu"))
    assert fitter.settings.lr == 0.5 and fitter.lr == 0.5
    assert isinstance(fitter.optimizer, torch.optim.RMSprop)
    assert fitter.model[1].out_features == 3


def test_registry_names():
    assert set(DATASETS) == {"synthetic_classification", "digits", "csv"}
    assert set(OPTIMIZERS) == {"gd", "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop"}
    assert set(SCHEDULES) == {"constant", "step", "exponential", "cosine", "plateau", "warmup_cosine", "one_cycle"}

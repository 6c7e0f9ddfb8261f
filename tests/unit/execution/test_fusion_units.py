"""Fused trials without Ray: the `search.fuse` field, the CLI option, SoloGroup against the solo loop."""
from __future__ import annotations

import math

import pytest
import torch

from autolearn.config.defaults import seed_spec
from autolearn.config.spec import Experiment
from autolearn.errors import ConfigError


def _exp(**search) -> Experiment:
    data = seed_spec()
    data["search"] = {**data["search"], **search}
    return Experiment.from_dict(data)


@pytest.mark.parametrize("value", [0, -1, "many", True, 2.5, "", [4]])
def test_bad_fuse_values_name_the_field_and_what_is_allowed(value):
    with pytest.raises(ConfigError) as err:
        _exp(fuse=value)
    message = str(err.value)
    assert "search.fuse" in message and "'auto'" in message and "\n" not in message


@pytest.mark.parametrize("value, expected", [(4, 4), ("8", 8), ("auto", "auto"), (1, 1), (None, 1)])
def test_fuse_values_and_the_spec_round_trip(value, expected):
    exp = _exp(fuse=value)
    assert exp.search.fuse == expected
    assert Experiment.from_dict(exp.to_dict()).search.fuse == expected
    assert ("fuse" in exp.to_dict()["search"]) == (expected != 1)  # old specs compare equal on --resume


def test_cli_fuse_option_lands_in_the_spec_and_bad_values_exit_2(capsys):
    from autolearn.cli import build_parser, load_experiment, main

    args = build_parser().parse_args(["sweep", "--fuse", "auto", "--name", "x"])
    assert load_experiment(args).search.fuse == "auto"
    assert main(["sweep", "--fuse", "0", "--name", "x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: search.fuse") and "\n" not in err


def test_member_checkpoint_file_is_the_solo_one():
    from autolearn.execution.fusion.reports import CHECKPOINT_FILE
    from autolearn.training import trainable

    assert CHECKPOINT_FILE == trainable.CHECKPOINT_FILE


def _job(dropout: float = 0.0, epochs: int = 3):
    from autolearn.training.data import load_dataset
    from autolearn.training.loop import TrainJob

    data = seed_spec()
    exp = Experiment.from_dict({**data, "model": {**data["model"], "dropout": dropout},
                                "train": {**data["train"], "epochs": epochs}})
    ds = load_dataset(exp.task.dataset.name, dict(exp.task.dataset.params), 0.2, 0.2, 42)
    return TrainJob(data=ds, model=exp.model, train=exp.train)


def _solo(job, config) -> list[dict]:
    """What `train_trial` reports for one config alone (its loop, without Ray)."""
    from autolearn.training.loop import Fitter
    from autolearn.training.optim import step_schedule

    fitter, out = Fitter(job, config, torch.device("cpu")), []
    for epoch in range(1, fitter.settings.epochs + 1):
        lr = fitter.lr
        train_loss = fitter.train_epoch()
        val_loss, val_accuracy = fitter.validate()
        out.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                    "val_accuracy": val_accuracy, "lr": lr, "diverged": not math.isfinite(train_loss)})
        step_schedule(fitter.settings.lr_schedule, fitter.schedule, val_loss)
    return out


CONFIGS = [{"optimizer": "adam", "lr": 1e-3, "hidden_units": 16, "batch_size": 32},
           {"optimizer": "sgd", "lr": 1e-2, "hidden_units": 64, "batch_size": 16, "lr_schedule": "step",
            "lr_step_size": 1},
           {"optimizer": "rmsprop", "lr": 1e-3, "hidden_units": 32, "batch_size": 64, "seed": 3}]


@pytest.mark.parametrize("dropout", [0.0, 0.3])  # dropout: each member keeps its own RNG stream
def test_solo_group_reports_exactly_what_each_config_gives_alone(dropout):
    from autolearn.training.group import SoloGroup

    job = _job(dropout)
    group = SoloGroup(job, torch.device("cpu"))
    for i, config in enumerate(CONFIGS):
        group.add(str(i), config)
    reported: dict[str, list[dict]] = {str(i): [] for i in range(len(CONFIGS))}
    while group.active():
        for key, metrics in group.train_epoch().items():
            reported[key].append(metrics)
    for i, config in enumerate(CONFIGS):
        assert reported[str(i)] == _solo(job, config)


def test_solo_group_resumes_from_a_member_state_and_drops_members():
    from autolearn.training.group import SoloGroup

    job = _job()
    group = SoloGroup(job, torch.device("cpu"))
    group.add("a", CONFIGS[0])
    group.add("b", CONFIGS[1])
    first = group.train_epoch()
    state = group.member_state("a")
    group.drop("b")
    assert group.active() == ["a"] and state["epoch"] == 1
    resumed = SoloGroup(job, torch.device("cpu"))
    resumed.add("a", CONFIGS[0], state)
    rest = [resumed.train_epoch()["a"] for _ in range(2)]
    assert [first["a"], *rest] == _solo(job, CONFIGS[0])
    assert resumed.active() == [] and resumed.member_state("a")["epoch"] == 3  # final state, for the checkpoint


@pytest.mark.parametrize("value", [0, "often", 1.5, True])
def test_bad_checkpoint_every_names_the_field_and_auto(value):
    data = seed_spec()
    data["train"] = {**data["train"], "checkpoint_every": value}
    with pytest.raises(ConfigError, match=r"train\.checkpoint_every.*'auto'"):
        Experiment.from_dict(data)


def test_checkpoint_cadence_every_n_auto_and_always_the_last_epoch():
    from autolearn.training import cadence

    every = cadence.Cadence(3, epochs=7)
    assert [e for e in range(1, 8) if every.due(e)] == [3, 6, 7]
    auto = cadence.Cadence("auto", epochs=7)
    assert [e for e in range(1, 8) if auto.due(e)] == [7]  # sub-second epochs: only the last
    auto.last -= cadence.AUTO_INTERVAL_S  # as if the first epoch had taken the whole interval
    assert auto.due(1) and not auto.due(2)

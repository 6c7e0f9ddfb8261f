"""Fused training: each member of a FusedGroup is its solo trial (Fitter + train_trial's epoch loop).

One group holds every optimizer, with and without weight decay, padded widths, mixed batch sizes,
schedules and dropout; each member is compared with the same config trained alone.
"""
from __future__ import annotations

import math

import pytest
import torch

from autolearn.config.spec import ModelSpec, TrainSpec
from autolearn.training.data import load_dataset
from autolearn.training.fused import FusedGroup, fuse_blocker
from autolearn.training.fused.optimizers import RULES, Run, needed_state, read_hyper
from autolearn.training.loop import Fitter, TrainJob
from autolearn.training.optim import OPTIMIZERS, make_optimizer, step_schedule

EPOCHS = 10
LR = {"adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "sgd": 1e-2, "momentum": 1e-2, "nesterov": 1e-2, "gd": 5e-2}
WIDTHS, BATCHES = [16, 24, 40, 64], [16, 32, 64, 128]
SCHEDULES = ["constant", "step", "exponential", "cosine", "plateau"]


def _configs() -> dict[str, dict]:
    out = {}
    for i, (name, wd) in enumerate((n, w) for n in sorted(OPTIMIZERS) for w in (0.0, 1e-3)):
        out[f"{name}-wd{wd}"] = {"optimizer": name, "lr": LR[name], "weight_decay": wd, "seed": i,
                                 "hidden_units": WIDTHS[i % 4], "batch_size": BATCHES[(i // 2) % 4],
                                 "lr_schedule": SCHEDULES[i % 5], "lr_step_size": 3, "lr_patience": 0}
    out["dropout"] = {"optimizer": "adam", "lr": 1e-3, "seed": 40, "hidden_units": 24, "dropout": 0.2}
    out["sigmoid-16"] = {"optimizer": "momentum", "lr": 1e-2, "seed": 41, "hidden_units": 16, "activation": "sigmoid"}
    out["sigmoid-40"] = {"optimizer": "adam", "lr": 1e-3, "seed": 42, "hidden_units": 40, "activation": "sigmoid",
                         "batch_size": 64}
    return out


@pytest.fixture(autouse=True)
def one_thread():
    """Solo trials run one torch thread per CPU; on a shared machine more only fight."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def job() -> TrainJob:
    data = load_dataset("synthetic_classification", {"random_state": 42}, 0.2, 0.2, 42)
    return TrainJob(data, ModelSpec("mlp", {"hidden_units": 64, "depth": 2}), TrainSpec(epochs=EPOCHS))


def _solo(job: TrainJob, config: dict, epochs: int = EPOCHS, fitter: Fitter | None = None) -> tuple[list, Fitter]:
    """train_trial's loop without Ray: per-epoch metrics and the trained Fitter."""
    fitter = fitter or Fitter(job, config, torch.device("cpu"))
    rows = []
    for _ in range(epochs):
        lr, train_loss = fitter.lr, fitter.train_epoch()
        val_loss, val_acc = fitter.validate() if math.isfinite(train_loss) else (math.nan, math.nan)
        rows.append({"train_loss": train_loss, "val_loss": val_loss, "val_accuracy": val_acc, "lr": lr})
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            break
        step_schedule(fitter.settings.lr_schedule, fitter.schedule, val_loss)
    return rows, fitter


def _padding_is_zero(group: FusedGroup) -> bool:
    for bucket in group.core.buckets():
        for r, m in enumerate(bucket.members):
            outside = 1 - bucket.layout.mask_row(m.shape)
            for flat in [bucket.params, bucket.grads, *bucket.state.values()]:
                if torch.count_nonzero(flat[r].cpu() * outside):
                    return False
    return True


@pytest.fixture(scope="module")
def fused_run(job):
    torch.set_num_threads(1)
    configs = _configs()
    # One bucket per family: maximal padding, every batch size on the gcd tick.
    group = FusedGroup(job, torch.device("cpu"), max_pad=math.inf, mix_batches=True)
    for key, config in configs.items():
        group.add(key, config)
    start = {key: group.member_state(key)["model"] for key in configs}
    buckets = [(len(b.members), {m.batch_size for m in b.members}, {m.hyper.kind for m in b.members},
                {m.shape.hidden[0].width for m in b.members}) for b in group.core.buckets()]
    epochs, padding_zero = [], []
    for epoch in range(EPOCHS):
        epochs.append(group.train_epoch())
        if epoch in (0, 4, 8):
            padding_zero.append(_padding_is_zero(group))
    final = {key: group.member_state(key) for key in configs}
    return {"configs": configs, "start": start, "buckets": buckets, "epochs": epochs,
            "padding_zero": padding_zero, "final": final, "group": group}


def test_a_config_that_cannot_fuse_leaves_no_trace(job):
    group = FusedGroup(job, torch.device("cpu"))
    with pytest.raises(ValueError, match="mlp and cnn"):
        FusedGroup(TrainJob(job.data, ModelSpec(_user_model, {}), job.train), torch.device("cpu")).add("u", {})
    group.add("a", {"hidden_units": 16})
    assert group.active() == ["a"] and group.nbytes() > 0


def test_one_bucket_mixes_widths_batch_sizes_and_optimizers(fused_run):
    size, batches, kinds, widths = max(fused_run["buckets"], key=lambda b: b[0])
    assert size >= 14 and len(batches) >= 4 and kinds == {"sgd", "adam", "rmsprop"} and len(widths) >= 4


def test_padded_units_stay_exactly_zero(fused_run):
    assert fused_run["padding_zero"] == [True, True, True]


@pytest.mark.parametrize("key", sorted(_configs()))
def test_member_is_its_solo_trial(job, fused_run, key):
    config = fused_run["configs"][key]
    fresh = Fitter(job, config, torch.device("cpu"))
    for name, tensor in fresh.model.state_dict().items():  # the same initial draw, exactly
        assert torch.equal(fused_run["start"][key][name], tensor), name
    solo, fitter = _solo(job, config)
    fused = [epoch[key] for epoch in fused_run["epochs"]]
    assert fused[0]["train_loss"] == pytest.approx(solo[0]["train_loss"], rel=1e-5)
    assert [f["lr"] for f in fused] == [s["lr"] for s in solo]
    assert [f["epoch"] for f in fused] == list(range(1, EPOCHS + 1))
    assert fused[-1]["val_loss"] == pytest.approx(solo[-1]["val_loss"], rel=1e-3)
    assert not any(f["diverged"] for f in fused)
    # The final state is Fitter's format: a Fitter loads it and scores what the fused member scored.
    state = fused_run["final"][key]
    assert state["epoch"] == EPOCHS
    loaded = Fitter(job, config, torch.device("cpu"))
    assert loaded.load_state(state) == EPOCHS
    assert loaded.validate()[0] == pytest.approx(fused[-1]["val_loss"], rel=1e-6)
    assert loaded.lr == fitter.lr
    assert loaded.optimizer.state_dict()["param_groups"] == fitter.optimizer.state_dict()["param_groups"]
    for name, value in fitter.schedule.state_dict().items():  # plateau's 'best' is a val loss: approx
        got = loaded.schedule.state_dict()[name]
        assert got == (pytest.approx(value, rel=1e-3) if isinstance(value, float) else value), name
    assert torch.equal(loaded.generator.get_state(), fitter.generator.get_state())


def test_finished_members_leave_the_group(fused_run):
    assert fused_run["group"].active() == []


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_vectorised_rule_is_torch_optim(name):
    """Three members' updates over flat buffers against torch.optim on each alone, same gradients."""
    torch.manual_seed(0)
    k, size, steps = 3, 50, 5
    params = torch.randn(k, size)
    for shared in (True, False):
        lrs = [0.01] * k if shared else [0.01, 0.003, 0.02]
        wds = [1e-2] * k if shared else [0.0, 1e-2, 1e-3]
        solo = [torch.nn.Parameter(params[i].clone()) for i in range(k)]
        opts = [make_optimizer(name, [p], lrs[i], wds[i], 0.9 if shared else 0.5 + 0.2 * i) for i, p in enumerate(solo)]
        hypers = [read_hyper(o) for o in opts]
        flat = params.clone()
        state = {n: torch.zeros(k, size) for n in needed_state(hypers)}
        for step in range(1, steps + 1):
            grads = torch.randn(k, size)
            for i, (p, opt) in enumerate(zip(solo, opts)):
                p.grad = grads[i].clone()
                opt.step()
            RULES[hypers[0].kind](Run(hypers, lrs, [step] * k, torch.device("cpu")), flat, grads.clone(), state)
        expected = torch.stack([p.detach() for p in solo])
        if shared:  # the same op with the same scalars: bit for bit
            assert torch.equal(flat, expected)
        else:  # a per-member column instead of a fused multiply-add: within a rounding or two
            torch.testing.assert_close(flat, expected, rtol=1e-6, atol=1e-7)


def test_resumes_from_a_solo_checkpoint_and_drop_stops_a_member(job):
    configs = {"a": {"optimizer": "adam", "lr": 1e-3, "hidden_units": 20, "seed": 1, "lr_schedule": "step",
                     "lr_step_size": 2},
               "b": {"optimizer": "rmsprop", "lr": 1e-3, "hidden_units": 48, "seed": 2, "batch_size": 64},
               "c": {"optimizer": "nesterov", "lr": 1e-2, "hidden_units": 30, "seed": 3, "batch_size": 16}}
    group = FusedGroup(job, torch.device("cpu"))
    for key, config in configs.items():
        _, fitter = _solo(job, config, epochs=3)
        group.add(key, config, fitter.state(3))  # resumed mid-run, schedule and data order included
    first = group.train_epoch()
    assert {m["epoch"] for m in first.values()} == {4}
    dropped = group.solo["c"].model
    group.drop("c")
    assert group.active() == ["a", "b"]
    assert group.member_state("c")["epoch"] == 4  # readable until the next epoch, for a last checkpoint
    before = [p.detach().clone() for p in dropped.parameters()]
    later = [group.train_epoch() for _ in range(2)]
    assert all(torch.equal(a, b) for a, b in zip(before, dropped.parameters()))
    for key in ("a", "b"):
        solo, _ = _solo(job, configs[key], epochs=6)
        assert first[key]["train_loss"] == pytest.approx(solo[3]["train_loss"], rel=1e-5)
        assert later[-1][key]["val_loss"] == pytest.approx(solo[5]["val_loss"], rel=1e-3)
        assert later[-1][key]["lr"] == solo[5]["lr"]


def test_a_member_resumed_after_its_last_epoch_trains_no_more(job):
    config = {"optimizer": "sgd", "lr": 1e-2, "hidden_units": 16}
    _, fitter = _solo(job, config, epochs=EPOCHS)
    group = FusedGroup(job, torch.device("cpu"))
    group.add("done", config, fitter.state(EPOCHS))
    assert group.active() == [] and group.member_state("done")["epoch"] == EPOCHS


def test_a_diverging_member_stops_alone(job):
    configs = {"wild": {"optimizer": "sgd", "lr": 1e4, "seed": 1, "hidden_units": 64},
               "calm": {"optimizer": "sgd", "lr": 1e-2, "seed": 2, "hidden_units": 32}}
    group = FusedGroup(job, torch.device("cpu"), mix_batches=False)  # one batch size per bucket
    for key, config in configs.items():
        group.add(key, config)
    solo_wild, _ = _solo(job, configs["wild"])
    fused = []
    while group.active():
        fused.append(group.train_epoch())
    wild = [e["wild"] for e in fused if "wild" in e]
    assert len(wild) == len(solo_wild) < EPOCHS and wild[-1]["diverged"]
    assert not math.isfinite(wild[-1]["train_loss"]) or not math.isfinite(wild[-1]["val_loss"])
    solo_calm, _ = _solo(job, configs["calm"])
    assert fused[-1]["calm"]["val_loss"] == pytest.approx(solo_calm[-1]["val_loss"], rel=1e-3)


def _user_model(input_shape, n_outputs):
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(20, n_outputs))


def test_fuse_blocker_names_why(job):
    assert fuse_blocker(job, {"hidden_units": 32, "optimizer": "sgd"}) is None
    assert fuse_blocker(TrainJob(job.data, ModelSpec("cnn", {}), job.train), {}) is None
    reason = fuse_blocker(TrainJob(job.data, ModelSpec(_user_model, {}), job.train), {})
    assert reason is not None and "mlp and cnn" in reason


@pytest.mark.slow
def test_cnn_members_are_their_solo_trials():
    """The digits CNN: padded channels, mixed optimizers and batch sizes, dropout, tanh, in one group."""
    data = load_dataset("digits", {}, 0.2, 0.2, 42)
    job = TrainJob(data, ModelSpec("cnn", {"channels": 8, "hidden_units": 32}), TrainSpec(epochs=3))
    configs = {"a": {"optimizer": "adam", "lr": 1e-3, "channels": 4, "seed": 1},
               "b": {"optimizer": "sgd", "lr": 1e-2, "hidden_units": 16, "seed": 2, "batch_size": 64},
               "c": {"optimizer": "rmsprop", "lr": 1e-3, "channels": 6, "seed": 3, "weight_decay": 1e-3},
               "d": {"optimizer": "adamw", "lr": 1e-3, "channels": 5, "seed": 4, "dropout": 0.3},
               "e": {"optimizer": "momentum", "lr": 1e-2, "channels": 3, "seed": 5, "activation": "tanh"}}
    group = FusedGroup(job, torch.device("cpu"))
    for key, config in configs.items():
        group.add(key, config)
    assert max(len(b.members) for b in group.core.buckets()) == 4
    fused = [group.train_epoch() for _ in range(2)]
    assert _padding_is_zero(group)
    fused.append(group.train_epoch())
    for key, config in configs.items():
        solo, _ = _solo(job, config, epochs=3)
        assert fused[0][key]["train_loss"] == pytest.approx(solo[0]["train_loss"], rel=1e-5)
        assert fused[-1][key]["val_loss"] == pytest.approx(solo[-1]["val_loss"], rel=1e-3)
        loaded = Fitter(job, config, torch.device("cpu"))
        loaded.load_state(group.member_state(key))
        assert loaded.validate()[0] == pytest.approx(fused[-1][key]["val_loss"], rel=1e-6)

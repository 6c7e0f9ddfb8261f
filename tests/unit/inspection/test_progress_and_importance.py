"""Progress text, hyperparameter importance and HParams domains, without Ray."""
from __future__ import annotations

import io
import random
from pathlib import Path

import pandas as pd
import pytest

from autolearn.config.space import SearchSpace
from autolearn.inspection.progress import ProgressCallback, SweepProgress, fmt_duration
from autolearn.inspection.report.data import SweepData
from autolearn.inspection.report.importance import hyperparameter_importance


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _progress(clock: Clock) -> SweepProgress:
    return SweepProgress(metric="val_accuracy", mode="max", expected_trials=4, max_epochs=10,
                         space_keys=["lr", "optimizer"], clock=clock)


def test_progress_counts_best_and_time_left():
    clock = Clock()
    p = _progress(clock)
    for tid in ("a", "b", "c"):
        p.start(tid)
    assert p.result("a", {"lr": 0.01, "optimizer": "adam", "other": 1}, {"training_iteration": 10, "val_accuracy": 0.8})
    assert not p.result("b", {"lr": 0.1, "optimizer": "sgd"}, {"training_iteration": 2, "val_accuracy": 0.7})
    p.result("c", {"lr": 9.0, "optimizer": "sgd"}, {"training_iteration": 1, "val_accuracy": float("nan"),
                                                     "diverged": True})
    p.end("a", {"training_iteration": 10})
    p.end("b", {"training_iteration": 2})
    p.end("c", {"training_iteration": 1, "diverged": True})
    p.start("d")
    p.result("d", {"lr": 0.02, "optimizer": "adam"}, {"training_iteration": 5, "val_accuracy": 0.75})
    clock.now += 70.0
    assert p.counts() == {"running": 1, "finished": 1, "stopped": 1, "diverged": 1, "timeout": 0, "error": 0,
                          "interrupted": 0, "infeasible": 0, "oom": 0}
    assert p.fraction_done() == pytest.approx(3.5 / 4)
    assert p.eta() == pytest.approx(10.0)
    head, best = p.lines()
    assert head == ("trials 3/4 done: running 1, finished 1, stopped early 1, diverged 1, errored 0 | "
                    "elapsed 1:10, left ~0:10")
    assert best == "best val_accuracy: 0.8000 (trial a) lr=0.01, optimizer=adam"


def test_progress_before_any_score_and_min_mode():
    clock = Clock()
    p = SweepProgress(metric="val_loss", mode="min", clock=clock)
    assert p.lines()[1] == "best val_loss: none yet" and "left" not in p.lines()[0]  # total unknown
    p.result("a", {}, {"val_loss": 0.5})
    p.result("b", {}, {"val_loss": 0.7})
    assert p.best_trial == "a"
    assert fmt_duration(3725) == "1:02:05" and fmt_duration(None) == "?"


class _Trial:
    def __init__(self, trial_id: str) -> None:
        self.trial_id, self.config, self.last_result = trial_id, {"lr": 0.1, "optimizer": "adam"}, {}


def test_terminal_output_redraws_in_place():
    out = io.StringIO()
    cb = ProgressCallback(_progress(Clock()), out, tty=True, interval=0)
    cb.on_trial_start(0, [], _Trial("a"))
    cb.on_trial_result(0, [], _Trial("a"), {"training_iteration": 1, "val_accuracy": 0.5})
    first, second = out.getvalue().split("\x1b[2F")  # the second draw moves up over the first two lines
    assert first.count("\n") == 2 and "running 1" in second and "0.5000" in second


def test_plain_output_prints_only_when_something_changed():
    out = io.StringIO()
    cb = ProgressCallback(_progress(Clock()), out, tty=False, interval=0)
    cb.on_trial_start(0, [], _Trial("a"))
    for _ in range(5):
        cb.on_step_end(0, [])
    assert out.getvalue().count("trials 0/4") == 1 and "\x1b" not in out.getvalue()


def _data(n: int) -> SweepData:
    space = SearchSpace.from_dict({"lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
                                   "optimizer": {"type": "choice", "values": ["sgd", "adam"]},
                                   "units": {"type": "int", "low": 8, "high": 64}})
    rng = random.Random(0)
    rows = []
    for i in range(n):
        lr = 10 ** rng.uniform(-4, -1)
        rows.append({"trial_id": f"t{i:03d}", "status": "finished", "lr": lr,
                     "optimizer": rng.choice(["sgd", "adam"]), "units": rng.randint(8, 64),
                     "best_val_accuracy": 1.0 - abs(lr - 0.01) * 5})  # only lr matters
    return SweepData(directory=Path("."), metric="val_accuracy", mode="max", space=dict(space), max_epochs=3,
                     table=pd.DataFrame(rows), curves={}, finished=True)


def test_importance_finds_the_one_parameter_that_matters():
    result = hyperparameter_importance(_data(30))
    assert set(result.values) == {"lr", "optimizer", "units"}
    assert sum(result.values.values()) == pytest.approx(1.0)
    assert max(result.values, key=result.values.get) == "lr" and result.values["lr"] > 0.8
    assert "permutation importance" in result.method and "30 trials" in result.method


def test_importance_is_not_estimated_from_too_few_trials():
    result = hyperparameter_importance(_data(3))
    assert result.values == {} and "not estimated" in result.method


def test_hparams_domains_and_values_from_the_space():
    from tensorboard.plugins.hparams import metadata

    from autolearn.config.space import ChoiceParam
    from autolearn.inspection.hparams import experiment_summary, hparam_value, session_start_summary

    mixed = ChoiceParam((16, "auto"))
    assert hparam_value(mixed, 16) == "16" and hparam_value(ChoiceParam((1, 2.5)), 1) == 1.0
    space = {**_data(1).space, "mixed": mixed}
    summary = experiment_summary(space, ["val/accuracy", "val/accuracy", "best/val_accuracy"])
    experiment = metadata.parse_experiment_plugin_data(summary.value[0].metadata.plugin_data.content)
    infos = {h.name: h for h in experiment.hparam_infos}
    assert (infos["lr"].domain_interval.min_value, infos["lr"].domain_interval.max_value) == (1e-4, 1e-1)
    assert [v.string_value for v in infos["mixed"].domain_discrete.values] == ["16", "auto"]
    assert [m.name.tag for m in experiment.metric_infos] == ["val/accuracy", "best/val_accuracy"]
    start = session_start_summary("t1", {"lr": 0.01, "mixed": 16, "optimizer": "sgd", "units": 9}, space,
                                  "diverged", 1.0)
    info = metadata.parse_session_start_info_plugin_data(start.value[0].metadata.plugin_data.content)
    assert info.hparams["mixed"].string_value == "16" and info.hparams["status"].string_value == "diverged"
    assert info.hparams["units"].number_value == 9.0 and info.group_name == "t1"


def test_callbacks_pickle_with_the_tuner_whatever_their_stream():
    """Ray saves callbacks in tuner.pkl: an unpicklable stream (pytest's capture) must not break it."""
    import pickle

    class Unpicklable(io.StringIO):
        def __reduce__(self):
            raise TypeError("cannot pickle this stream")

    cb = ProgressCallback(_progress(Clock()), Unpicklable(), tty=False, interval=0)
    copy = pickle.loads(pickle.dumps(cb))
    assert copy.out is None and copy.progress.expected_trials == 4
    copy.on_trial_start(0, [], _Trial("a"))  # silent, no error

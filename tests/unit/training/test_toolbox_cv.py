"""Cross-validation and repeats on real torch: folds, means, and a test split nothing reads early."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from autolearn import ConfigError, Experiment
from autolearn.config.sections import CVSpec, TaskSpec
from autolearn.training.cv import (
    CrossValidatedFitter,
    check_folds,
    fold_dataset,
    make_fitter,
    plan_resampling,
    retrain_and_test,
    training_part,
)
from autolearn.training.data import Dataset, load_dataset
from autolearn.training.loop import Fitter, TrainJob

CPU = torch.device("cpu")


def _task(**kw) -> TaskSpec:
    return TaskSpec.from_dict({"dataset": {"name": "synthetic_classification", "n_samples": 300}, **kw})


def _data(n: int = 300, ids: bool = False) -> Dataset:
    data = load_dataset("synthetic_classification", {"n_samples": n, "n_features": 6}, 0.2, 0.2, 42)
    if not ids:
        return data
    # The last feature is a row id: every split's rows are known by it, whatever standardising did.
    arrays = [data.x_train, data.x_val, data.x_test]
    start, out = 0, []
    for x in arrays:
        x = x.copy()
        x[:, -1] = np.arange(start, start + len(x))
        start += len(x)
        out.append(x)
    return replace(data, x_train=out[0], x_val=out[1], x_test=out[2])


def _job(data: Dataset, task: TaskSpec, epochs: int = 2) -> TrainJob:
    exp = Experiment.from_dict({"train": {"epochs": epochs, "batch_size": 32}})
    return TrainJob(data=data, model=exp.model, train=exp.train, resampling=plan_resampling(task, data))


def test_folds_cover_the_training_part_once_and_never_the_test_split():
    data = _data(ids=True)
    plan = plan_resampling(_task(cv={"folds": 4}), data)
    x, _ = training_part(data)
    test_ids = set(data.x_test[:, -1].astype(int))
    val_ids: list[int] = []
    for fold in plan.folds:
        part = fold_dataset(data, fold)
        seen = set(part.x_train[:, -1].astype(int)) | set(part.x_val[:, -1].astype(int))
        assert not seen & test_ids
        assert not set(part.x_train[:, -1].astype(int)) & set(part.x_val[:, -1].astype(int))
        assert len(part.x_test) == 0
        val_ids += list(part.x_val[:, -1].astype(int))
    assert sorted(val_ids) == sorted(x[:, -1].astype(int))  # each training row validates exactly once


def test_folds_are_stratified_and_reproducible():
    data = _data()
    task = _task(cv={"folds": 5}, split={"random_state": 7})
    first, second = plan_resampling(task, data), plan_resampling(task, data)
    _, y = training_part(data)
    share = np.bincount(y) / len(y)
    for a, b in zip(first.folds, second.folds):
        assert np.array_equal(a.val, b.val)
        counts = np.bincount(y[a.val], minlength=len(share))
        assert np.all(np.abs(counts - share * len(a.val)) <= 1)  # each class within one example
    other = plan_resampling(_task(cv={"folds": 5}, split={"random_state": 8}), data)
    assert not all(np.array_equal(a.val, b.val) for a, b in zip(first.folds, other.folds))


def test_repeats_make_new_fold_assignments_and_seeds():
    data = _data()
    plan = plan_resampling(_task(cv={"folds": 3}, repeats=2), data)
    assert (plan.k, plan.repeats, len(plan.folds)) == (3, 2, 6)
    assert not np.array_equal(plan.folds[0].val, plan.folds[3].val)
    fitter = make_fitter(_job(data, _task(cv={"folds": 3}, repeats=2)), {"seed": 5}, CPU)
    assert [f.settings.seed for f in fitter.fitters] == [5, 5, 5, 6, 6, 6]
    single = plan_resampling(_task(repeats=3), data)
    assert single.k == 1 and len(single.folds) == 3 and len(single.folds[0].val) == len(data.y_val)


def test_trial_reports_the_mean_and_spread_of_the_folds_without_reading_the_test_split():
    data = _data()
    poisoned = replace(data, x_test=np.full_like(data.x_test, np.nan))  # any read would give nan
    task = _task(cv={"folds": 3})
    job = _job(poisoned, task)
    cv = make_fitter(job, {}, CPU)
    assert isinstance(cv, CrossValidatedFitter)
    for _ in range(2):
        assert np.isfinite(cv.train_epoch())
        loss, accuracy = cv.validate()
    per_fold = np.array([f.validate() for f in cv.fitters])
    assert loss == pytest.approx(per_fold[:, 0].mean()) and accuracy == pytest.approx(per_fold[:, 1].mean())
    assert cv.spread["val_accuracy_std"] == pytest.approx(per_fold[:, 1].std(ddof=1))
    assert cv.spread["folds"] == 3 and np.isfinite(cv.spread["val_loss_std"])
    # The fold models are the models a plain Fitter would train on the fold's data.
    plain = Fitter(replace(job, data=fold_dataset(data, job.resampling.folds[0]), resampling=None), {}, CPU)
    plain.train_epoch()
    plain.train_epoch()
    assert plain.validate() == pytest.approx(tuple(per_fold[0]))


def test_checkpoint_state_round_trips_every_fold():
    data = _data()
    job = _job(data, _task(cv={"folds": 2}))
    a = make_fitter(job, {"lr_schedule": "warmup_cosine"}, CPU)
    a.train_epoch()
    a.validate()
    a.schedule.step()
    b = make_fitter(job, {"lr_schedule": "warmup_cosine"}, CPU)
    assert b.load_state(a.state(1)) == 1
    for fa, fb in zip(a.fitters, b.fitters):
        for pa, pb in zip(fa.model.parameters(), fb.model.parameters()):
            assert torch.equal(pa, pb)
        assert fa.lr == fb.lr


def test_retrain_uses_the_whole_training_part_and_scores_the_test_split():
    data = _data()
    job = _job(data, _task(cv={"folds": 3}))
    scores = retrain_and_test(job, {}, epochs=2)
    assert set(scores) == {"test_loss", "test_accuracy"} and 0.5 < scores["test_accuracy"] <= 1.0


@pytest.mark.parametrize("cv, message", [
    ({"folds": 1}, "task.cv.folds: cross-validation needs at least 2 folds"),
    ({"folds": "x"}, "task.cv.folds: expected a number"),
    ({"folds": 3, "stratified": "yes"}, "task.cv.stratified: expected true or false"),
    ({"folds": 3, "shuffle": True}, "task.cv.shuffle: unknown key"),
])
def test_bad_cv_is_a_one_line_error(cv, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as err:
        Experiment.from_dict({"task": {"cv": cv}})
    assert "\n" not in str(err.value)


def test_more_folds_than_the_smallest_class_is_an_error_naming_the_field():
    y = np.array([0] * 20 + [1] * 3)
    with pytest.raises(ConfigError, match=r"task.cv.folds: 4 stratified folds need at least 4 examples .* "
                       r"smallest class has 3"):
        check_folds(y, 4, stratified=True)
    check_folds(y, 4, stratified=False)  # plain K-fold only needs rows
    with pytest.raises(ConfigError, match="task.cv.folds: 30 folds need at least 30 rows"):
        check_folds(y, 30, stratified=False)


def test_cv_and_repeats_are_for_the_builtin_loop_only():
    with pytest.raises(ConfigError, match="task.cv: is for the built-in training loop"):
        TaskSpec.from_dict({"trainable": "os:getcwd", "cv": {"folds": 3}})
    with pytest.raises(ConfigError, match="task.repeats: must be >= 1"):
        TaskSpec.from_dict({"repeats": 0})
    assert TaskSpec.from_dict({"cv": 4}).cv == CVSpec(4, True)


def test_cv_round_trips_through_the_yaml_form():
    exp = Experiment.from_dict({"task": {"cv": {"folds": 3, "stratified": False}, "repeats": 2}})
    again = Experiment.from_dict(exp.to_dict())
    assert again.task.cv == CVSpec(3, False) and again.task.repeats == 2


def test_cv_trials_do_not_train_as_fused_members():
    from autolearn.training.fused import fuse_blocker

    job = _job(_data(), _task(cv={"folds": 3}))
    assert "task.cv" in fuse_blocker(job, {})
    assert fuse_blocker(replace(job, resampling=None), {}) is None

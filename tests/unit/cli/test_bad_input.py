"""Bad input through the real command line: exit code 2, ONE line naming the field and the problem,
no Ray started and no file left behind.

The CLI runs in-process (`autolearn.cli.main`) for speed; the unit guard (tests/unit/conftest.py)
fails the test if a bad input ever gets as far as starting Ray or any process. The real script
(`scripts/sweep.py` in a subprocess) is refused the same way in tests/integration/test_cli.py.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from autolearn import cli


def _base(storage: Path) -> dict:
    return {
        "name": "bad", "storage": str(storage),
        "task": {"dataset": {"name": "synthetic_classification", "n_samples": 100, "n_features": 4}},
        "model": {"name": "mlp", "hidden_units": 8},
        "train": {"epochs": 2},
        "space": {"lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}},
        "search": {"strategy": "random", "num_samples": 2},
    }


def _set(data: dict, dotted: str, value) -> dict:
    data = copy.deepcopy(data)
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return data


def _csv(tmp: Path, text: str) -> dict:
    (tmp / "data.csv").write_text(text)
    return {"name": "csv", "path": str(tmp / "data.csv"), "target": "label"}


# (id, how the spec is spoiled, extra CLI args, what the one line must name)
# A spoiler is (dotted field, value), a callable (tmp) -> dataset or spec text, or None.
CASES = [
    ("malformed-yaml", lambda t: "name: [unclosed\n", [], "not valid YAML"),
    ("not-a-mapping", lambda t: "- one\n- two\n", [], "must hold a mapping"),
    ("no-spec-file", None, ["NOFILE"], "no spec file"),
    ("unknown-top-key", ("colour", "red"), [], "colour: unknown key"),
    ("unknown-task-key", ("task.datset", {}), [], "task.datset: unknown key"),
    ("unknown-split-key", ("task.split.tst", 0.2), [], "task.split.tst: unknown key"),
    ("unknown-dataset-key", ("task.dataset.n_sample", 10), [], "task.dataset.n_sample: unknown key"),
    ("unknown-model-key", ("model.hiden_units", 8), [], "model.hiden_units: unknown key"),
    ("unknown-train-key", ("train.epoch", 3), [], "train.epoch: unknown key"),
    ("unknown-space-key", ("space.lr.lo", 1e-3), [], "space.lr"),
    ("unknown-search-option", ("search.num_sample", 3), [], "search.num_sample"),
    ("unknown-scheduler-option", ("scheduler", {"name": "asha", "grace": 1}), [], "scheduler.grace"),
    ("unknown-metric-key", ("metric", {"name": "val_loss", "mod": "min"}), [], "metric.mod: unknown key"),
    ("unknown-resources-key", ("resources.cpus", 1), [], "resources.cpus: unknown key"),
    ("unknown-run-key", ("run.retries", 3), [], "run.retries: unknown key"),
    ("wrong-type-epochs", ("train.epochs", "ten"), [], "train.epochs"),
    ("wrong-type-lr", ("train.lr", "fast"), [], "train.lr"),
    ("wrong-type-num-samples", ("search.num_samples", 2.5), [], "search.num_samples"),
    ("wrong-type-section", ("train", [1, 2]), [], "train: expected a mapping"),
    ("range-low-above-high", ("space.lr", {"type": "float", "low": 0.5, "high": 0.1}), [], "space.lr.low"),
    ("log-range-from-zero", ("space.lr", {"type": "float", "low": 0, "high": 0.1, "log": True}), [], "space.lr.low"),
    ("unknown-param-type", ("space.lr", {"type": "gaussian"}), [], "space.lr.type"),
    ("split-share-above-one", ("task.split", {"test": 1.5}), [], "task.split.test"),
    ("zero-cpus", ("resources.cpus_per_trial", 0), [], "resources.cpus_per_trial"),
    ("negative-max-failures", ("run.max_failures", -1), [], "run.max_failures"),
    ("zero-trial-timeout", ("run.trial_timeout", 0), [], "run.trial_timeout"),
    ("unknown-strategy", ("search.strategy", "anneal"), [], "search.strategy"),
    ("unknown-scheduler", ("scheduler", {"name": "pbt2"}), [], "scheduler.name"),
    ("unknown-optimizer", ("train.optimizer", "adamax"), [], "train.optimizer"),
    ("unknown-model", ("model.name", "resnet"), [], "model.name"),
    ("unknown-dataset", ("task.dataset", {"name": "mnist"}), [], "task.dataset.name"),
    ("unknown-schedule", ("train.lr_schedule", "cyclic"), [], "train.lr_schedule"),
    ("unknown-metric-mode", ("metric", {"name": "val_loss", "mode": "up"}), [], "metric.mode"),
    ("grid-over-continuous", ("search.strategy", "grid"), [], "space.lr"),
    ("num-samples-zero", ("search.num_samples", 0), [], "search.num_samples"),
    ("num-samples-zero-option", None, ["--num-samples", "0"], "search.num_samples"),
    ("asha-grace-above-epochs", ("scheduler", {"name": "asha", "grace_period": 5}), [], "scheduler.grace_period"),
    ("bad-name", ("name", "a/b"), [], "name"),
    ("csv-missing", lambda t: {"name": "csv", "path": str(t / "nope.csv"), "target": "label"}, [],
     "task.dataset.path"),
    ("csv-empty", lambda t: _csv(t, ""), [], "task.dataset.path"),
    ("csv-no-target", lambda t: _csv(t, "a,b,y\n1,2,0\n3,4,1\n"), [], "task.dataset.target"),
    ("csv-non-numeric", lambda t: _csv(t, "a,b,label\n1,x,0\n2,y,1\n3,z,0\n4,w,1\n"), [], "task.dataset"),
    ("user-model-missing-module", ("model.name", "nosuchpkg.models:build"), [], "model.name"),
    ("user-model-missing-attr", ("model.name", "autolearn.training.models:nosuch"), [], "model.name"),
    ("storage-under-a-file", lambda t: ("storage", str(t / "afile" / "runs")), [], "storage"),
    ("storage-read-only", ("storage", "/sys/autolearn-runs"), [], "storage"),
    # Second pass (config/limits.py, training/data_checks.py): tracebacks, exhausted drivers, silent garbage.
    ("name-too-long", ("name", "n" * 300), [], "name: is 300 characters long"),
    ("seed-too-big", ("search.seed", 2**64), [], "search.seed"),
    ("seed-too-big-option", None, ["--seed", str(2**40)], "search.seed"),
    ("split-seed-too-big", ("task.split", {"random_state": 2**33}), [], "task.split.random_state"),
    ("yaml-alias-bomb", lambda t: _alias_bomb(), [], "aliases"),
    ("yaml-duplicate-key", lambda t: _duplicate_key(t), [], "duplicate key 'train'"),
    ("csv-blank-labels", lambda t: _csv(t, "a,b,label\n1,2,0\n3,4,\n5,6,1\n7,8,0\n"), [],
     "task.dataset.target"),
    ("csv-continuous-labels", lambda t: _csv(t, "a,b,label\n1,2,0.5\n3,4,1.25\n5,6,2.75\n7,8,0.1\n"), [],
     "continuous labels"),
    ("csv-infinite-feature", lambda t: _csv(t, "a,b,label\n1,inf,0\n3,4,1\n5,6,1\n7,8,0\n"), [],
     "infinite feature values"),
    ("storage-unsupported-scheme", ("storage", "ftp://example.org/runs"), [], "storage: the URI scheme"),
    ("storage-secret-in-query", ("storage", "abfs://c@acct.dfs.core.windows.net/runs?sv=1&sig=S3CR3T"), [],
     "storage: the URI's query string holds 'sig'"),
    ("tpe-huge-int-range", lambda t: yaml.safe_dump(_set(_set(_base(t / "runs"), "search.strategy", "tpe"),
     "space.hidden_units", {"type": "int", "low": 1, "high": 2**32})), [], "space.hidden_units"),
    ("fault-hook-is-not-a-run-field", ("run.inject_fault", {"kind": "raise"}), [], "run.inject_fault: unknown key"),
    # Several objectives and constraints (config/objectives.py, training/checks.py).
    ("objective-listed-twice", ("metric", [{"name": "val_accuracy"}, {"name": "val_accuracy", "mode": "max"}]), [],
     "metric[1].name: 'val_accuracy' is listed twice"),
    ("objective-bad-mode", ("metric", [{"name": "val_accuracy"}, {"name": "n_params", "mode": "smallest"}]), [],
     "metric[1].mode: unknown mode"),
    ("objective-not-reported", ("metric", [{"name": "val_accuracy"}, {"name": "flops", "mode": "min"}]), [],
     "metric[1].name: the built-in training loop reports"),
    ("objectives-empty-list", ("metric", []), [], "metric: an empty list"),
    ("constraint-not-reported", ("constraints", [{"metric": "memory_mb", "max": 10}]), [],
     "constraints[0].metric: the built-in training loop reports"),
    ("constraint-without-bound", ("constraints", [{"metric": "n_params"}]), [], "constraints[0]: a constraint on"),
    ("constraint-min-above-max", ("constraints", [{"metric": "n_params", "min": 5, "max": 1}]), [],
     "constraints[0]: min must be <= max"),
    ("constraint-not-a-list", ("constraints", {"metric": "n_params", "max": 1}), [], "constraints: expected a list"),
    ("constraint-unknown-key", ("constraints", [{"metric": "n_params", "below": 1}]), [],
     "constraints[0].below: unknown key"),
    ("fused-cost-objective", lambda t: yaml.safe_dump(_set(_set(_base(t / "runs"), "search.fuse", 2),
     "metric", [{"name": "val_accuracy"}, {"name": "epoch_time_s", "mode": "min"}])), [], "is its group's"),
    # Population-based training (search/population.py): pairings that cannot work.
    ("pbt-with-grid", lambda t: _pbt(t, {"search.strategy": "grid",
                                         "space.lr": {"type": "choice", "values": [0.01, 0.1]}}), [],
     "search.strategy"),
    ("pbt-with-tpe", lambda t: _pbt(t, {"search.strategy": "tpe"}), [], "search.strategy: pbt draws"),
    ("pb2-with-gp", lambda t: _pbt(t, {"search.strategy": "gp", "scheduler.name": "pb2"}), [], "search.strategy"),
    ("pbt-fused", lambda t: _pbt(t, {"search.fuse": 2}), [], "search.fuse"),
    ("pbt-population-of-one", lambda t: _pbt(t, {"search.num_samples": 1}), [], "search.num_samples"),
    ("pbt-with-cv", lambda t: _pbt(t, {"task.cv": 2}), [], "task.cv"),
    ("pb2-mutates-a-choice", lambda t: _pbt(t, {"scheduler.name": "pb2", "scheduler.mutate": ["lr", "batch_size"],
                                                "space.batch_size": {"type": "choice", "values": [16, 32]}}), [],
     "scheduler.mutate: pb2 models numeric ranges"),
    ("pbt-mutates-unknown", lambda t: _pbt(t, {"scheduler.mutate": ["dropout"]}), [], "scheduler.mutate"),
    ("pbt-mutates-nothing", lambda t: _pbt(t, {"space": {"hidden_units": {"type": "int", "low": 4, "high": 8}}}), [],
     "scheduler.mutate"),
    ("pbt-interval-at-budget", lambda t: _pbt(t, {"scheduler.perturbation_interval": 2}), [],
     "scheduler.perturbation_interval"),
    ("pbt-quantile-above-half", lambda t: _pbt(t, {"scheduler.quantile_fraction": 0.75}), [],
     "scheduler.quantile_fraction"),
    ("pb2-resample-probability", lambda t: _pbt(t, {"scheduler.name": "pb2", "scheduler.resample_probability": 0.5}),
     [], "scheduler.resample_probability"),
    ("pbt-trainable-never-checkpoints", lambda t: _pbt_user(t, "custom_plugins:never_checkpoints"), [],
     "task.trainable: pbt restarts trials"),
    # Conditional parameters (`when:`, config/conditions.py).
    ("when-unknown-parent", ("space.momentum", {"type": "float", "low": 0.5, "high": 0.9,
     "when": {"optimiser": ["momentum"]}}), [], "space.momentum.when.optimiser: unknown parent"),
    ("when-value-outside-parent", lambda t: ("space", {**_OPTIMIZERS, "momentum": {
     "type": "float", "low": 0.5, "high": 0.9, "when": {"optimizer": ["nesterov"]}}}), [],
     "space.momentum.when.optimizer: 'nesterov' is not a value"),
    ("when-on-itself", ("space.optimizer", {"type": "choice", "values": ["sgd", "adam"],
     "when": {"optimizer": ["sgd"]}}), [], "space.optimizer.when.optimizer"),
    ("when-cycle", lambda t: ("space", {"a": {"type": "choice", "values": ["sgd"], "when": {"b": ["adam"]}},
     "b": {"type": "choice", "values": ["adam"], "when": {"a": ["sgd"]}}}), [], "conditions form a cycle"),
    ("when-parent-is-a-range", ("space.momentum", {"type": "float", "low": 0.5, "high": 0.9,
     "when": {"lr": [0.01]}}), [], "space.momentum.when.lr"),
    ("when-grid-under-a-choice", lambda t: ("space", {**_OPTIMIZERS, "momentum": {
     "type": "grid", "values": [0.5, 0.9], "when": {"optimizer": ["momentum"]}}}), [], "space.momentum.when.optimizer"),
    # Users' own data (issue 15): builders of the wrong type, loader options, float16 without a GPU.
    ("builder-wrong-type", ("task.dataset", {"name": "custom_plugins:not_a_dataset"}), [],
     "task.dataset.name: the builder 'custom_plugins:not_a_dataset' returned str; expected (X, y) arrays"),
    ("builder-dataset-without-classes", ("task.dataset", {"name": "custom_plugins:unlabelled_dataset"}), [],
     "task.dataset: a torch Dataset needs a `classes` attribute"),
    ("loader-negative-workers", ("train.loader", {"num_workers": -1}), [], "train.loader.num_workers: must be >= 0"),
    ("loader-unknown-option", ("train.loader", {"workers": 2}), [], "train.loader.workers: unknown key"),
    ("loader-persistent-without-workers", ("train.loader", {"persistent_workers": True}), [],
     "train.loader.persistent_workers: needs num_workers >= 1"),
    ("loader-with-array-dataset", ("train.loader", {"num_workers": 1}), [], "train.loader: DataLoader options"),
    ("precision-16-without-gpu", ("train.precision", 16), [], "train.precision: 16 (float16 autocast"),
    ("precision-16-searched-without-gpu", ("space.precision", {"type": "choice", "values": [32, 16]}), [],
     "space.precision.values: 16"),
    ("precision-unknown", ("train.precision", "fp8"), [], "train.precision: unknown precision 'fp8'"),
    ("gpus-auto-for-user-trainable", lambda t: yaml.safe_dump({
        "name": "bad", "storage": str(t / "runs"), "task": {"trainable": "custom_plugins:not_a_dataset"},
        "space": {"x": {"type": "float", "low": 0, "high": 1}}, "metric": {"name": "loss", "mode": "min"},
        "resources": {"gpus_per_trial": "auto"}}), [], "resources.gpus_per_trial: auto measures"),
    # Distributed trials (the cluster's own limit: tests/integration/test_distributed.py).
    ("zero-workers", ("resources.workers_per_trial", 0), [], "resources.workers_per_trial: must be >= 1"),
    ("negative-workers", ("resources.workers_per_trial", -3), [], "resources.workers_per_trial: must be >= 1"),
    ("fractional-workers", ("resources.workers_per_trial", 2.5), [], "workers_per_trial: expected an integer"),
    ("text-workers", ("resources.workers_per_trial", "many"), [], "resources.workers_per_trial: expected a number"),
    ("worker-cpus-without-workers", ("resources.cpus_per_worker", 2), [], "resources.cpus_per_worker"),
    ("fused-distributed-trials", lambda t: yaml.safe_dump(_set(_set(_base(t / "runs"), "search.fuse", 4),
     "resources.workers_per_trial", 2)), [], "search.fuse: cannot fuse trials that are each 2 workers"),
]
_OPTIMIZERS = {"optimizer": {"type": "choice", "values": ["sgd", "momentum"]},
               "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}}


def _pbt(tmp: Path, changes: dict) -> str:
    """The base spec with `scheduler: pbt` and `changes` (dotted field → value)."""
    data = _set(_base(tmp / "runs"), "scheduler", {"name": "pbt"})
    for dotted, value in changes.items():
        data = _set(data, dotted, value)
    return yaml.safe_dump(data)


def _pbt_user(tmp: Path, trainable: str) -> str:
    data = {"name": "bad", "storage": str(tmp / "runs"), "task": {"trainable": trainable},
            "metric": {"name": "score", "mode": "max"}, "space": _base(tmp)["space"],
            "search": {"strategy": "random", "num_samples": 2}, "scheduler": {"name": "pbt", "max_t": 3}}
    return yaml.safe_dump(data)


def _alias_bomb() -> str:
    """Nine levels of nine aliases: 9**6 values once expanded, from a dozen lines."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 6)]
    return "\n".join(lines) + "\nname: bad\n"


def _duplicate_key(tmp: Path) -> str:
    return yaml.safe_dump(_base(tmp / "runs")) + "train: {epochs: 3}\n"  # YAML kept the last one silently


def _prepare(tmp: Path, spoil, args: list[str]) -> list[str]:
    """Write the spoiled spec; return the CLI arguments."""
    data: dict | str = _base(tmp / "runs")
    (tmp / "afile").write_text("a file, not a folder\n")
    if isinstance(spoil, tuple):
        data = _set(data, *spoil)
    elif callable(spoil):
        made = spoil(tmp)
        if isinstance(made, tuple):
            data = _set(data, *made)
        elif isinstance(made, dict):
            data = _set(data, "task.dataset", made)
        else:
            data = made
    spec = tmp / "spec.yaml"
    spec.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    if args[:1] == ["NOFILE"]:
        return ["sweep", str(tmp / "missing.yaml")]
    return ["sweep", str(spec), *args]


@pytest.fixture
def no_ray():
    """A bad input must be refused before Ray starts. The unit guard (tests/unit/conftest.py) fails
    any test that starts Ray or a process, so a spec that got that far fails here; this fixture
    also checks the Ray state is what it was."""
    import ray

    was_running = ray.is_initialized()
    yield
    assert ray.is_initialized() == was_running


def _check_refused(code: int, out: str, err: str, field: str, tmp: Path, before: set[str]) -> None:
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    assert lines[0].startswith("error: ") and field in lines[0], lines[0]
    assert out == ""
    assert not (tmp / "runs").exists()
    assert {p.name for p in tmp.iterdir()} == before, "files were left behind"


@pytest.mark.parametrize("case, spoil, args, field", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_one_line(tmp_path, capsys, no_ray, case, spoil, args, field):
    argv = _prepare(tmp_path, spoil, args)
    before = {p.name for p in tmp_path.iterdir()}
    code = cli.main(argv)
    out, err = capsys.readouterr()
    _check_refused(code, out, err, field, tmp_path, before)
    assert "S3CR3T" not in err  # a refused secret is never echoed back


@pytest.mark.parametrize("make", [lambda t: t / "nothing-here", lambda t: t])
def test_resume_of_a_folder_without_an_experiment(tmp_path, capsys, no_ray, make):
    before = {p.name for p in tmp_path.iterdir()}
    code = cli.main(["sweep", "--resume", str(make(tmp_path))])
    out, err = capsys.readouterr()
    _check_refused(code, out, err, "resume", tmp_path, before)


def test_resume_with_a_spec_that_differs_from_the_saved_one(tmp_path, capsys, no_ray):
    saved = _base(tmp_path / "runs")
    folder = tmp_path / "runs" / "bad"
    folder.mkdir(parents=True)
    (folder / "spec.yaml").write_text(yaml.safe_dump(saved))
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(_set(saved, "train.epochs", 3)))
    code = cli.main(["sweep", str(tmp_path / "spec.yaml"), "--resume"])
    out, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("error: train: differs"), err
    assert sorted(p.name for p in folder.iterdir()) == ["spec.yaml"]


def test_resume_with_the_same_spec_and_options_is_accepted(tmp_path):
    """The counterpart of the test above: the saved spec.yaml round-trips, so the check passes."""
    from autolearn.execution.resume import check_same_spec, find_experiment
    from autolearn.execution.runner import _save_spec, experiment_dir

    args = cli.build_parser().parse_args(["sweep", str(tmp_path / "spec.yaml"), "--num-samples", "3"])
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(_base(tmp_path / "runs")))
    exp = cli.load_experiment(args)
    Path(experiment_dir(exp)).mkdir(parents=True)
    _save_spec(exp, experiment_dir(exp))
    folder, saved = find_experiment(experiment_dir(exp))
    check_same_spec(exp, saved)
    assert folder == tmp_path / "runs" / "bad" and saved.search.num_samples == 3

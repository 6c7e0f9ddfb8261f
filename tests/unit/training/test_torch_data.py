"""Torch Dataset data sets, mixed precision, the oom status and `profile`: real torch on tiny data, no Ray."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from autolearn.config import Experiment, ModelSpec, TrainSpec
from autolearn.errors import ConfigError, DataError, ResourceError
from autolearn.results.status import STATUSES, UNSCORED, classify
from autolearn.training.cv import make_fitter
from autolearn.training.data import load_dataset
from autolearn.training.loader_fit import LoaderFitter
from autolearn.training.loop import Fitter, TrainJob, evaluate_on_test
from autolearn.training.precision import Mixed
from autolearn.training.profile import pack_gpu, profile_trial
from autolearn.training.torch_data import TorchData, build_loaders, describe

CPU = torch.device("cpu")


def _images(tmp_path, n_per_class: int = 10) -> dict:
    return {"name": "examples.images:build", "n_per_class": n_per_class, "size": 8, "root": str(tmp_path / "img")}


def _image_job(tmp_path, **train) -> TrainJob:
    params = dict(_images(tmp_path))
    name = params.pop("name")
    data = load_dataset(name, params, test=0.2, validation=0.25, random_state=0)
    return TrainJob(data=data, model=ModelSpec("examples.images:resnet", {"width": 4}),
                    train=TrainSpec(epochs=2, batch_size=8, **train))


def test_image_folder_builds_described_not_loaded_and_trains(tmp_path):
    job = _image_job(tmp_path)
    assert isinstance(job.data, TorchData)
    assert job.data.input_shape == (3, 8, 8) and job.data.n_classes == 3 and job.data.n_outputs == 3
    fitter = make_fitter(job, {"lr": 0.01}, CPU)
    assert isinstance(fitter, LoaderFitter)
    losses = [fitter.train_epoch()]
    assert all(math.isfinite(v) for v in losses)
    val_loss, accuracy = fitter.validate()
    assert math.isfinite(val_loss) and 0.0 <= accuracy <= 1.0
    scores = evaluate_on_test(job, {"lr": 0.01}, fitter.state(2))  # the best trial's test score, on the driver
    assert 0.0 <= scores["test_accuracy"] <= 1.0


def test_loader_fitter_resumes_from_its_checkpoint_exactly(tmp_path):
    job = _image_job(tmp_path)
    config = {"lr": 0.01, "precision": "bf16"}
    straight = make_fitter(job, config, CPU)
    straight.train_epoch()
    saved = io.BytesIO()
    torch.save(straight.state(1), saved)  # as the trainable writes it (the live state shares Adam's tensors)
    saved.seek(0)
    state = torch.load(saved, weights_only=True)
    resumed = make_fitter(job, config, CPU)
    assert resumed.load_state(state) == 1
    assert resumed.train_epoch() == pytest.approx(straight.train_epoch(), rel=1e-5)  # same order, same weights


def test_split_is_the_same_in_every_process_and_shards_cover_the_train_part(tmp_path):
    data = _image_job(tmp_path).data
    one = build_loaders(data, None, 4)
    again = build_loaders(data, None, 4)
    assert one.validation.dataset.indices == again.validation.dataset.indices  # seeded by task.split
    shards = [build_loaders(data, None, 4, rank=r, world_size=2) for r in range(2)]
    seen = [set(iter(s.train.sampler)) for s in shards]
    assert not seen[0] & seen[1] and len(seen[0] | seen[1]) == len(one.train.dataset)


def test_wrong_builder_results_are_one_line_errors():
    with pytest.raises(DataError, match="returned str; expected"):
        load_dataset("tests.unit.training.test_torch_data:_returns_text", {})
    no_classes = TensorDataset(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(DataError, match="`classes` attribute"):
        describe(no_classes, "x", {}, (0.2, 0.2, 0))
    with pytest.raises(DataError, match="validation part is list"):
        describe({"train": no_classes, "validation": [1, 2]}, "x", {}, (0.2, 0.2, 0))


def _returns_text() -> str:
    return "not data"


@pytest.mark.parametrize("loader, message", [
    ({"num_workers": -1}, "train.loader.num_workers: must be >= 0"),
    ({"workers": 2}, "train.loader.workers: unknown key"),
    ({"persistent_workers": True}, "needs num_workers >= 1"),
    ({"pin_memory": "yes"}, "expected true or false"),
])
def test_bad_loader_options(loader, message):
    with pytest.raises(ConfigError, match=message):
        TrainSpec.from_dict({"loader": loader})


def test_precision_values_and_16_needs_cuda():
    assert TrainSpec.from_dict({"precision": 16}).precision == "16"
    assert TrainSpec.from_dict({"precision": "bf16"}).precision == "bf16"
    with pytest.raises(ConfigError, match="train.precision: unknown precision 8"):
        TrainSpec.from_dict({"precision": 8})
    with pytest.raises(ResourceError, match="needs a CUDA GPU"):
        Mixed("16", CPU)


def _seed_job(**train) -> TrainJob:
    data = load_dataset("synthetic_classification", {"n_samples": 200, "n_features": 6})
    return TrainJob(data=data, model=ModelSpec("mlp", {"hidden_units": 8}), train=TrainSpec(epochs=2, **train))


def test_bf16_autocast_on_cpu_trains_and_divergence_is_still_caught():
    fitter = Fitter(_seed_job(), {"precision": "bf16", "lr": 0.01}, CPU)
    assert fitter.mixed is not None
    assert math.isfinite(fitter.train_epoch()) and math.isfinite(fitter.validate()[0])
    wild = Fitter(_seed_job(), {"precision": "bf16", "optimizer": "sgd", "lr": 1e12, "momentum": 0.99}, CPU)
    losses = [wild.train_epoch() for _ in range(3)]
    assert not all(math.isfinite(v) for v in losses)


def test_oom_is_a_status_of_its_own():
    assert "oom" in STATUSES and "oom" in UNSCORED
    assert classify({"oom": True, "training_iteration": 1}, None, 10) == "oom"


def test_gpu_packing_fits_the_card_with_a_margin():
    gib = 2**30
    k, share = pack_gpu(peak=1 * gib, total=80 * gib)
    assert k * share <= 1.0 and k * (1 * gib * 1.2 + 512 * 2**20) <= 80 * gib
    assert pack_gpu(peak=100 * gib, total=80 * gib) == (1, 1.0)  # too big to share: a whole card


def _seed_experiment(**resources) -> Experiment:
    from autolearn.config.defaults import seed_spec

    data = seed_spec()
    data["task"]["dataset"]["n_samples"] = 300
    data["train"]["epochs"] = 1
    data["resources"] = {**data["resources"], **resources}
    return Experiment.from_dict(data)


def test_profile_reports_positive_numbers_consistent_between_runs():
    exp = _seed_experiment()
    first, second = profile_trial(exp, epochs=1), profile_trial(exp, epochs=1)
    for p in (first, second):
        assert p.peak_memory_bytes > 0 and p.samples_per_s > 0 and p.seconds_per_epoch > 0
        assert p.trials_per_device >= 1 and p.memory_kind == ("gpu" if torch.cuda.is_available() else "cpu_rss")
    assert 0.1 < first.samples_per_s / second.samples_per_s < 10
    assert 0.1 < first.peak_memory_bytes / second.peak_memory_bytes < 10


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU machine auto measures instead")
def test_gpus_auto_resolves_to_zero_without_a_gpu():
    from autolearn.training.auto import resolve_auto

    exp, notes = resolve_auto(_seed_experiment(gpus_per_trial="auto"))
    assert exp.resources.gpus_per_trial == 0.0 and "no CUDA GPU" in notes["auto"]["gpus_per_trial"]["note"]
    assert np.isclose(exp.resources.gpus, 0.0)


def test_profile_command_prints_memory_throughput_and_packing(tmp_path, capsys):
    import yaml

    from autolearn import cli

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_seed_experiment().to_dict()))
    assert cli.main(["profile", str(spec), "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "peak" in out and "samples/s" in out and "suggested packing: " in out
    assert cli.main(["profile", str(spec), "--epochs", "0"]) == 2
    assert "--epochs: must be >= 1" in capsys.readouterr().err

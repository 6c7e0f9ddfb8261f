"""Users' own data and models on a real local Ray: the bundled image example (a torch Dataset over
PNGs read by DataLoader workers, a small ResNet, bf16 searched) trains end to end; a trial that
runs out of GPU memory ends as `oom` while the sweep goes on; `torch.compile` trains."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from autolearn import Experiment, load_spec, run_experiment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.usefixtures("ray_session")
def test_image_example_trains_from_dataloader_workers_end_to_end(storage, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES.parent))
    exp = load_spec(EXAMPLES / "images.yaml")
    data = exp.to_dict()
    data["task"]["dataset"].update(n_per_class=12, size=8, root=str(tmp_path / "images"))
    data["train"].update(epochs=2, loader={"num_workers": 1, "persistent_workers": True})
    data["space"] = {"width": {"type": "choice", "values": [4]},
                     "precision": {"type": "grid", "values": ["32", "bf16"]}}
    data["search"] = {"strategy": "random", "num_samples": 1, "seed": 0}
    data["scheduler"] = {"name": "fifo"}
    data["storage"] = storage
    result = run_experiment(Experiment.from_dict(data))
    assert sorted(t.config["precision"] for t in result.trials) == ["32", "bf16"]
    for trial in result.trials:
        assert (trial.status, trial.epochs) == ("finished", 2), trial
        assert list(Path(trial.path).glob("checkpoint_*/checkpoint.pt"))
    assert 0.0 <= result.test_scores["test_accuracy"] <= 1.0


@pytest.mark.usefixtures("ray_session")
def test_trial_out_of_gpu_memory_ends_as_oom_and_the_sweep_goes_on(storage):
    exp = Experiment.from_dict({
        "name": "oom", "storage": storage,
        "task": {"dataset": {"name": "synthetic_classification", "n_samples": 200, "n_features": 6}},
        "model": {"name": "autolearn.testing.faults:faulty_mlp", "hidden_units": 8, "depth": 1,
                  "at_epoch": 2, "seconds": 0.01},
        "train": {"epochs": 2, "batch_size": 64},
        "space": {"fault": {"type": "grid", "values": ["oom", "slow"]}},
        "search": {"strategy": "random", "num_samples": 1, "seed": 0},
        "run": {"max_failures": 1},
    })
    result = run_experiment(exp)
    status = {t.config["fault"]: (t.status, t.retries) for t in result.trials}
    assert status == {"oom": ("oom", 0), "slow": ("finished", 0)}  # no retry: a retry would not fit either
    assert result.status_counts()["oom"] == 1
    assert result.best_config["fault"] == "slow"


@pytest.mark.slow
def test_compiled_forward_trains_and_checkpoints_plain_weights():
    """torch.compile (inductor runs a C++ compiler in a process: hence here, not in tests/unit)."""
    import torch

    from autolearn.config import ModelSpec, TrainSpec
    from autolearn.training.data import load_dataset
    from autolearn.training.loop import Fitter, TrainJob

    data = load_dataset("synthetic_classification", {"n_samples": 200, "n_features": 6})
    job = TrainJob(data=data, model=ModelSpec("mlp", {"hidden_units": 8}), train=TrainSpec(epochs=1, compile=True))
    fitter = Fitter(job, {"lr": 0.01}, torch.device("cpu"))
    assert math.isfinite(fitter.train_epoch())
    assert not any(k.startswith("_orig_mod") for k in fitter.state(1)["model"])

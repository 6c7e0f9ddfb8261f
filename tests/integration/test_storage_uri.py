"""`storage` as a URI: Ray Tune and autolearn's own files both go through pyarrow (file:// here,
s3:// or gs:// on a cluster), nothing lands in a local folder named after the URI."""
from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pytest

from autolearn import Experiment, run_experiment
from autolearn.errors import ConfigError
from autolearn.results.storage import exists, read_text, write_text

pytestmark = pytest.mark.usefixtures("ray_session")


def test_sweep_to_a_uri_writes_every_file_there(seed_dict, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a URI mistaken for a path would show up here as ./file:
    uri = f"file://{tmp_path}/bucket/runs"
    exp = Experiment.from_dict({**seed_dict, "name": "uri-sweep", "storage": uri,
                                "train": {**seed_dict["train"], "epochs": 2},
                                "search": {"strategy": "random", "num_samples": 2, "seed": 0}})
    result = run_experiment(exp)
    assert result.experiment_dir == f"{uri}/uri-sweep"
    folder = tmp_path / "bucket" / "runs" / "uri-sweep"
    with open(folder / "results.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 2
    assert json.loads((folder / "summary.json").read_text())["trials"] == 2
    assert (folder / "spec.yaml").is_file()
    assert len([p for p in (folder / "tensorboard").iterdir() if p.is_dir()]) == 2
    assert list(folder.glob("train_trial_*/checkpoint_*/checkpoint.pt"))
    assert not (tmp_path / "file:").exists()
    assert not list((Path(tempfile.gettempdir()) / "autolearn-staging").glob("uri-sweep-*"))  # staging cleaned
    with pytest.raises(ConfigError, match="already exists"):
        run_experiment(exp)


def test_text_round_trip_through_pyarrow(tmp_path):
    uri = f"file://{tmp_path}/a/b"
    assert not exists(uri)
    write_text(uri, "x.txt", "hello")
    assert exists(uri) and read_text(uri, "x.txt") == "hello"
    assert (tmp_path / "a" / "b" / "x.txt").read_text() == "hello"

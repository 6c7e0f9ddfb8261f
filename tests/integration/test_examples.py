"""The examples stay runnable: every spec validates, the Python example and a user trainable run."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from autolearn import load_spec, run_experiment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("spec", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_specs_validate(spec, monkeypatch):
    """Every field the example writes passes the checks and survives into the Experiment unchanged:
    none is dropped, renamed or silently replaced by a default."""
    monkeypatch.chdir(EXAMPLES.parent)
    monkeypatch.syspath_prepend(str(EXAMPLES.parent))
    exp = load_spec(spec)  # runs every registered check (models, datasets, strategies, schedulers)
    written = dict(_leaves(yaml.safe_load(spec.read_text())))
    loaded = dict(_leaves(exp.to_dict()))
    assert len(written) > 10
    for field, value in written.items():
        assert field in loaded, f"{spec.name}: {field} was dropped"
        if isinstance(value, str) and isinstance(loaded[field], float):
            value = float(value)  # YAML reads 1e-4 (no dot) as a string; the spec reads it as a number
        assert loaded[field] == value, f"{spec.name}: {field} is {loaded[field]!r}, written {value!r}"


def _leaves(data, prefix: str = ""):
    """("a.b.c", value) for every leaf of nested mappings."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, data


@pytest.mark.usefixtures("ray_session")
def test_custom_model_example_runs(storage):
    module_spec = importlib.util.spec_from_file_location("custom_model", EXAMPLES / "custom_model.py")
    module = importlib.util.module_from_spec(module_spec)
    import sys

    sys.modules["custom_model"] = module
    module_spec.loader.exec_module(module)
    result = run_experiment(module.make_experiment(storage=storage, num_samples=2, epochs=2))
    assert len(result.trials) == 2
    assert {"lr", "width", "blocks", "dropout"} == set(result.best_config)
    assert result.test_scores["test_accuracy"] > 0.3  # 10 classes: well above chance after 2 epochs


@pytest.mark.usefixtures("ray_session")
def test_user_trainable_example_runs(storage, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES.parent))
    exp = load_spec(EXAMPLES / "user_trainable.yaml").with_overrides(storage=storage,
                                                                     search={"num_samples": 3, "seed": 0})
    result = run_experiment(exp)
    assert len(result.trials) == 3 and result.best_score is not None
    assert result.best_score == min(t.best_score for t in result.trials)

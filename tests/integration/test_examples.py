"""The examples stay runnable: every spec validates, the Python example and a user trainable run."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from autolearn import Experiment, load_spec, run_experiment
from autolearn.config import read_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _same(given: Any, loaded: Any) -> bool:
    """One value, as the file gave it and as the loaded spec shows it (`1e-4`, a string to PyYAML,
    is the number; `1` and `1.0` are the same number; a bool is only ever a bool)."""
    number = (int, float)
    if isinstance(given, str) and isinstance(loaded, number) and not isinstance(loaded, bool):
        given = float(given)
    if isinstance(given, bool) or isinstance(loaded, bool):
        return given is loaded
    if isinstance(given, number) and isinstance(loaded, number):
        return given == loaded
    return type(given) is type(loaded) and given == loaded


def _differences(given: Any, loaded: Any, path: str = "") -> list[str]:
    """Where `loaded` does not hold what `given` (the YAML) set: every key of a mapping, every item
    of a list, every value."""
    if isinstance(given, dict) and isinstance(loaded, dict):
        return [diff for key, value in given.items()
                for diff in (_differences(value, loaded[key], f"{path}.{key}".lstrip(".")) if key in loaded
                             else [f"{path}.{key}".lstrip(".") + ": dropped"])]
    if isinstance(given, list) and isinstance(loaded, list) and len(given) == len(loaded):
        return [diff for i, (g, v) in enumerate(zip(given, loaded)) for diff in _differences(g, v, f"{path}[{i}]")]
    return [] if _same(given, loaded) else [f"{path}: {given!r} became {loaded!r}"]


@pytest.mark.parametrize("spec", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_specs_validate(spec, monkeypatch):
    """Every field an example sets is read, validated and kept: the loaded spec's YAML form holds each
    key and value of the file, and reading that form back gives the same Experiment."""
    monkeypatch.chdir(EXAMPLES.parent)
    monkeypatch.syspath_prepend(str(EXAMPLES.parent))
    exp = load_spec(spec)
    given = read_spec(spec)
    assert _differences(given, exp.to_dict()) == []
    assert Experiment.from_dict(exp.to_dict()) == exp
    assert exp.search.num_samples >= 1


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

"""The built-in default task (the seed spec), used when `sweep` is given no spec file."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from autolearn.config.spec import Experiment

SEED_SPEC_FILE = Path(__file__).resolve().parent / "specs" / "seed.yaml"


def seed_spec() -> dict[str, Any]:
    """The seed spec as a dict: 1000×20 synthetic binary classification, an MLP, random search."""
    return yaml.safe_load(SEED_SPEC_FILE.read_text())


def seed_experiment(**overrides: Any) -> Experiment:
    """The seed Experiment (what `autolearn sweep` runs without a spec file), with top-level sections
    replaced (e.g. name=..., search=...): a known-good start for tests, benchmarks and examples."""
    from autolearn.config.spec import Experiment

    return Experiment.from_dict({**seed_spec(), **overrides})

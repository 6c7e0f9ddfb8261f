"""A strategy and a scheduler defined outside autolearn, as a user's package would define them; specs
in the tests name them by import path (`custom_plugins:DiagonalSearch`, `custom_plugins:stop_at`).

Tests import this module by name: pytest puts `tests/` on `sys.path` (the conftest there), and
the conftest puts it on the `PYTHONPATH` of Ray's workers.
"""
from __future__ import annotations

from typing import Any

from autolearn.search import SearchPlan, SearchRequest, SpaceEncoding, Strategy


class DiagonalSearch(Strategy):
    """Trial i at (i + offset) / n on every axis of the unit cube: deterministic, so a test can say
    in advance which configs a sweep runs (each choice's first value: one-hot ties pick it)."""

    name = "diagonal"
    option_names = frozenset({"offset"})

    @staticmethod
    def configs(request: SearchRequest) -> list[dict[str, Any]]:
        encoding, n = SpaceEncoding(request.space), request.num_samples
        offset = float(request.options.get("offset", 0.5))
        return [encoding.from_cube([(i + offset) / n] * encoding.width) for i in range(n)]

    def build(self, request: SearchRequest) -> SearchPlan:
        from ray.tune.search.basic_variant import BasicVariantGenerator

        generator = BasicVariantGenerator(points_to_evaluate=self.configs(request),
                                          max_concurrent=request.max_concurrent or 0)
        return SearchPlan(param_space=request.space.to_tune(), num_samples=request.num_samples,
                          search_alg=generator, expected_trials=request.num_samples)


def diagonal_factory() -> Strategy:
    """A callable returning a strategy works as well as the class."""
    return DiagonalSearch()


class NotAStrategy:
    def build(self, request: SearchRequest) -> SearchPlan:
        raise AssertionError("never called")


def not_a_strategy_factory() -> object:
    return NotAStrategy()


class NeedsArguments(DiagonalSearch):
    def __init__(self, width: int) -> None:
        self.width = width


def stop_at(max_t: int, at: int = 1) -> Any:
    """A scheduler that stops every trial after `at` epochs (`max_t`: filled from the spec's epochs)."""
    from ray.tune.schedulers import FIFOScheduler, TrialScheduler

    if not 1 <= at <= max_t:
        raise ValueError(f"at must be in 1..max_t={max_t}, got {at}")

    class StopAt(FIFOScheduler):
        def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
            return TrialScheduler.STOP if result.get("training_iteration", 0) >= at else TrialScheduler.CONTINUE

    scheduler = StopAt()
    scheduler.max_t, scheduler.at = max_t, at  # type: ignore[attr-defined]
    return scheduler


def not_a_scheduler(max_t: int) -> dict[str, int]:
    return {"max_t": max_t}


def never_checkpoints(config: dict[str, Any]) -> None:
    """A user trainable that reports but never saves or reads a checkpoint: pbt/pb2 cannot clone it."""
    import autolearn

    for step in range(3):
        autolearn.report({"score": config["lr"] * step})


def checkpointing_trainable(config: dict[str, Any]) -> None:
    """A user trainable that saves its step and reads it back, as pbt/pb2 need: `score` climbs by
    `lr` per step, so a clone goes on from its donor's score with its own (mutated) rate."""
    import json
    import os
    import tempfile

    from ray import tune

    import autolearn

    step, score = 0, 0.0
    checkpoint = autolearn.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder, open(os.path.join(folder, "state.json")) as f:
            step, score = json.load(f)
    while step < 4:
        step, score = step + 1, score + config["lr"]
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "state.json"), "w") as f:
                json.dump([step, score], f)
            autolearn.report({"score": score, "step": step}, checkpoint=tune.Checkpoint.from_directory(folder))
def not_a_dataset() -> str:
    """A `task.dataset` builder that returns neither (X, y) nor torch Datasets."""
    return "not data"


def unlabelled_dataset() -> Any:
    """Torch Datasets without a `classes` list: the number of outputs cannot be known."""
    import torch
    from torch.utils.data import TensorDataset

    return TensorDataset(torch.zeros(8, 3), torch.zeros(8, dtype=torch.long))

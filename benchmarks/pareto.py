"""Pareto front quality: random against the multi-objective strategies (motpe, nsga2) at equal budgets.

The question: on digits with the CNN, accuracy against parameter count, how much of the best
possible front does each strategy find in a small budget? Measured as the hypervolume of the front
found (objectives: validation error and log10 of the parameter count, both minimised; reference
point error 1.0 and the largest model's log10 size + 0.1), divided by the hypervolume of the true
front of the whole space.

A tabular benchmark, so that 5 seeds × several strategies fit on a loaded 2-core machine: the
space is finite (channels 2..16 step 2, hidden_units 4..64 step 4: 128 configs; lr 0.01, adam,
4 epochs, train.seed 0, so each config has one deterministic score), every config is trained once
with autolearn's own loop (`training/loop.py`, what a trial runs) and cached in
benchmarks/results/pareto_table.json; the strategies then run on the table, driven through their
searchers exactly as the runner builds them (`get_strategy(...).build(SearchRequest)`), one trial at
a time. What this leaves out is Ray's scheduling, which is the same for every strategy.

    python benchmarks/pareto.py --seeds 5 --budgets 10,20,30

Prints the Markdown table of docs/BENCHMARKS.md and writes benchmarks/results/pareto.json.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autolearn.config import MetricSpec, SearchSpace  # noqa: E402
from autolearn.results.pareto import front_indices  # noqa: E402
from autolearn.search.strategies import SearchRequest, get_strategy  # noqa: E402

TABLE = ROOT / "benchmarks" / "results" / "pareto_table.json"
SPACE = {"channels": {"type": "int", "low": 2, "high": 16, "step": 2},
         "hidden_units": {"type": "int", "low": 4, "high": 64, "step": 4}}
TRAIN = {"epochs": 4, "lr": 0.01, "optimizer": "adam", "batch_size": 64, "seed": 0}
OBJECTIVES = (MetricSpec("val_accuracy", "max"), MetricSpec("n_params", "min"))
STRATEGIES = {"random": {}, "motpe": {"n_initial_points": 5}, "nsga2": {"population_size": 8}}


def _key(config: dict[str, Any]) -> str:
    return f"{config['channels']}-{config['hidden_units']}"


def build_table() -> dict[str, dict[str, float]]:
    """Train every config once (cached on disk as it goes: an interrupted build resumes)."""
    import itertools

    import torch

    from autolearn.config.sections import ModelSpec, TrainSpec
    from autolearn.training.costs import parameter_count
    from autolearn.training.data import load_dataset
    from autolearn.training.loop import Fitter, TrainJob

    torch.set_num_threads(1)
    table = json.loads(TABLE.read_text()) if TABLE.is_file() else {}
    data = load_dataset("digits", {}, 0.2, 0.2, 0)
    job = TrainJob(data=data, model=ModelSpec.from_dict({"name": "cnn"}), train=TrainSpec.from_dict(TRAIN))
    channels = range(SPACE["channels"]["low"], SPACE["channels"]["high"] + 1, SPACE["channels"]["step"])
    hidden = range(SPACE["hidden_units"]["low"], SPACE["hidden_units"]["high"] + 1, SPACE["hidden_units"]["step"])
    for c, h in itertools.product(channels, hidden):
        config = {"channels": c, "hidden_units": h}
        if _key(config) in table:
            continue
        started = time.perf_counter()
        fitter = Fitter(job, config, torch.device("cpu"))
        for _ in range(TRAIN["epochs"]):
            fitter.train_epoch()
        _, accuracy = fitter.validate()
        table[_key(config)] = {"val_accuracy": accuracy, "n_params": parameter_count(fitter.model),
                               "train_s": time.perf_counter() - started}
        TABLE.write_text(json.dumps(table, indent=1))
        print(f"{_key(config)}: {table[_key(config)]}", flush=True)
    return table


def _points(scores: list[dict[str, float]]) -> np.ndarray:
    return np.array([[1.0 - s["val_accuracy"], math.log10(s["n_params"])] for s in scores])


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Area dominated by `points` (both minimised) and bounded by `reference` (2-D sweep)."""
    inside = points[np.all(points < reference, axis=1)]
    front = inside[front_indices(inside.tolist(), ["min", "min"])] if len(inside) else inside
    area, last_y = 0.0, reference[1]
    for x, y in sorted(map(tuple, front)):
        if y < last_y:
            area += (reference[0] - x) * (last_y - y)
            last_y = y
    return area


def run(strategy: str, seed: int, budget: int, table: dict[str, dict[str, float]]) -> list[dict[str, float]]:
    """`budget` trials of one strategy on the table; returns their scores in order."""
    space = SearchSpace.from_dict(SPACE)
    request = SearchRequest(space=space, metric="val_accuracy", mode="max", num_samples=budget, seed=seed,
                            objectives=OBJECTIVES, options=STRATEGIES[strategy])
    chosen = get_strategy(strategy)
    chosen.check(request)
    plan = chosen.build(request)
    if strategy == "random":
        from ray.tune.experiment import Experiment as RayExperiment

        alg = plan.search_alg
        alg.add_configurations([RayExperiment("t", lambda config: None, config=plan.param_space,
                                              num_samples=plan.num_samples)])
        return [table[_key(trial.config)] for _ in range(budget) if (trial := alg.next_trial()) is not None]
    alg = plan.search_alg
    alg.set_search_properties("val_accuracy", "max", {})
    scores = []
    for i in range(budget):
        config = alg.suggest(f"t{i}")
        scores.append(table[_key(config)])
        alg.on_trial_complete(f"t{i}", dict(scores[-1]))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budgets", default="10,20,30")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    table = build_table()
    budgets = [int(b) for b in args.budgets.split(",")]
    every = _points(list(table.values()))
    reference = np.array([1.0, every[:, 1].max() + 0.1])
    best = hypervolume(every, reference)
    out: dict[str, Any] = {"configs": len(table), "true_front": len(front_indices(every.tolist(), ["min", "min"])),
                           "train_s_total": sum(s["train_s"] for s in table.values()), "ratios": {}}
    print(f"\n{len(table)} configs, true front {out['true_front']} points, hypervolume {best:.4f}\n")
    print("| strategy | " + " | ".join(f"HV ratio after {b}" for b in budgets) + " |")
    print("|---|" + "---|" * len(budgets))
    for strategy in STRATEGIES:
        ratios = {b: [] for b in budgets}
        for seed in range(args.seeds):
            scores = run(strategy, seed, max(budgets), table)
            for b in budgets:
                ratios[b].append(hypervolume(_points(scores[:b]), reference) / best)
        out["ratios"][strategy] = ratios
        cells = [f"{np.mean(r):.3f} ± {np.std(r):.3f} (min {np.min(r):.3f})" for r in ratios.values()]
        print(f"| {strategy} | " + " | ".join(cells) + " |")
    (ROOT / "benchmarks" / "results" / "pareto.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

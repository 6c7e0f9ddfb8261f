"""Conditional spaces: does `when:` help the model-based strategies? (Ray-free, searchers driven by hand.)

A hierarchical toy problem: `branch` picks one of four sub-problems, each with two parameters of
its own (a shifted quadratic, minimum `OFFSET[branch]`, best in branch `c`). Declared with `when:`,
a trial carries only its branch's two parameters; declared flat, all eight are always sampled and
six of them do nothing. Each strategy runs `--evals` sequential suggestions per seed; the table is
the median (and min-max) simple regret over seeds.

    python benchmarks/conditional_search.py --seeds 5 --evals 30
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autolearn import SearchSpace, make_search  # noqa: E402

BRANCHES = ("a", "b", "c", "d")
OFFSET = {"a": 0.6, "b": 0.3, "c": 0.0, "d": 0.9}
CENTRE = {"a": (0.2, 0.8), "b": (0.7, 0.3), "c": (0.35, 0.65), "d": (0.5, 0.5)}


def space(conditional: bool) -> SearchSpace:
    data: dict[str, Any] = {"branch": {"type": "choice", "values": list(BRANCHES)}}
    for b in BRANCHES:
        for i in (1, 2):
            data[f"{b}{i}"] = {"type": "float", "low": 0.0, "high": 1.0,
                               **({"when": {"branch": [b]}} if conditional else {})}
    return SearchSpace.from_dict(data)


def loss(config: dict[str, Any]) -> float:
    b = config["branch"]
    x, y = config[f"{b}1"], config[f"{b}2"]
    cx, cy = CENTRE[b]
    return OFFSET[b] + (x - cx) ** 2 + (y - cy) ** 2


def run(strategy: str, conditional: bool, seed: int, evals: int) -> float:
    sp = space(conditional)
    options = {"n_initial_points": 8} if strategy in ("tpe", "gp") else {}
    alg = make_search(strategy, sp, "loss", "min", seed, num_samples=evals, **options).search_alg
    if hasattr(alg, "add_configurations"):  # flat random: Ray's variant generator, driven by hand
        from ray.tune.experiment import Experiment as RayExperiment

        alg.add_configurations([RayExperiment("t", lambda config: None, config=sp.to_tune(), num_samples=evals)])
        return min(loss(alg.next_trial().config) for _ in range(evals))
    alg.set_search_properties("loss", "min", {})
    best = float("inf")
    for i in range(evals):
        config = alg.suggest(f"t{i}")
        value = loss(config)
        best = min(best, value)
        alg.on_trial_complete(f"t{i}", {"loss": value})
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--evals", type=int, default=30)
    parser.add_argument("--strategies", default="random,tpe,gp")
    args = parser.parse_args()
    print(f"| strategy | space | median regret after {args.evals} | min - max |")
    print("|---|---|---|---|")
    for strategy in args.strategies.split(","):
        for conditional in (False, True):
            regrets = [run(strategy, conditional, seed, args.evals) for seed in range(args.seeds)]
            label = "when:" if conditional else "flat"
            print(f"| {strategy} | {label} | {statistics.median(regrets):.4f} | "
                  f"{min(regrets):.4f} - {max(regrets):.4f} |", flush=True)


if __name__ == "__main__":
    main()

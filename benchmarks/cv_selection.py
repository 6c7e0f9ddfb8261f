"""Does choosing a config by 5-fold cross-validation beat choosing it on the single validation split?

    python benchmarks/cv_selection.py [--seeds 10] [--configs 8] [--epochs 10] [--tasks seed digits]

For each task and seed: one split (`random_state` = seed), `--configs` random configs of the seed
spec's space (lr, batch_size, hidden_units, optimizer; drawn with the seed), each scored twice with
the code trials run: on the single validation split (`Fitter`) and by 5 stratified folds of the
training part (`CrossValidatedFitter`), the best validation accuracy over epochs. Each method picks
its best config; both picks are then retrained the same way (`retrain_and_test`: the whole training
part, for the epochs the pick needed) and scored on the test split, so only the choice differs.
Equal trial budgets: the same configs, the same epochs. Prints the table for docs/BENCHMARKS.md
and writes benchmarks/results/cv_selection.json.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autolearn.config.sections import TaskSpec
from autolearn.config.spec import Experiment
from autolearn.training.cv import CrossValidatedFitter, plan_resampling, retrain_and_test
from autolearn.training.data import load_dataset
from autolearn.training.loop import Fitter, TrainJob

TASKS = {"seed": ("synthetic_classification", {"n_samples": 1000, "n_features": 20, "random_state": 42}),
         "digits": ("digits", {})}
CPU = torch.device("cpu")


def sample_configs(n: int, seed: int) -> list[dict[str, Any]]:
    """The seed spec's space, drawn with the stdlib RNG (the same configs for both methods)."""
    rng = random.Random(seed)
    return [{"lr": 10 ** rng.uniform(-4, -1), "batch_size": rng.choice([16, 32, 64, 128]),
             "hidden_units": int(round(2 ** rng.uniform(4, 8))),
             "optimizer": rng.choice(["sgd", "momentum", "adam", "rmsprop"])} for _ in range(n)]


def score(fitter: Fitter | CrossValidatedFitter, epochs: int) -> tuple[float, int]:
    """Best validation accuracy over the epochs, and the epoch it came at (1-based)."""
    best, at = -1.0, 1
    for epoch in range(1, epochs + 1):
        if not np.isfinite(fitter.train_epoch()):
            break
        accuracy = fitter.validate()[1]
        fitter.schedule.step()
        if accuracy > best:
            best, at = accuracy, epoch
    return best, at


def one_seed(task: str, seed: int, n_configs: int, epochs: int) -> dict[str, Any]:
    name, params = TASKS[task]
    data = load_dataset(name, params, 0.2, 0.2, seed)
    exp = Experiment.from_dict({"task": {"dataset": {"name": name, **params}}, "train": {"epochs": epochs}})
    task_spec = TaskSpec.from_dict({"dataset": {"name": name, **params}, "cv": {"folds": 5},
                                    "split": {"random_state": seed}})
    plain = TrainJob(data=data, model=exp.model, train=exp.train)
    folds = TrainJob(data=data, model=exp.model, train=exp.train, resampling=plan_resampling(task_spec, data))
    out: dict[str, Any] = {"task": task, "seed": seed}
    for method, job in (("single", plain), ("cv5", folds)):
        started = time.perf_counter()
        scored = []
        for config in sample_configs(n_configs, seed):
            fitter = (CrossValidatedFitter(job, config, CPU, job.resampling) if job.resampling
                      else Fitter(job, config, CPU))
            scored.append((*score(fitter, epochs), config))
        search_s = time.perf_counter() - started
        best, at, config = max(scored, key=lambda s: s[0])
        test = retrain_and_test(folds, config, at)
        out[method] = {"val": best, "epochs": at, "config": config, "test_accuracy": test["test_accuracy"],
                       "search_s": search_s}
    return out


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| task | seeds | cv5 better / tie / worse on test | mean test acc single | mean test acc cv5 "
             "| search time single | search time cv5 |", "|---|---|---|---|---|---|---|"]
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task]
        diff = [r["cv5"]["test_accuracy"] - r["single"]["test_accuracy"] for r in mine]
        better = sum(d > 1e-9 for d in diff)
        worse = sum(d < -1e-9 for d in diff)
        mean = {m: statistics.mean(r[m]["test_accuracy"] for r in mine) for m in ("single", "cv5")}
        secs = {m: statistics.mean(r[m]["search_s"] for r in mine) for m in ("single", "cv5")}
        lines.append(f"| {task} | {len(mine)} | {better} / {len(mine) - better - worse} / {worse} | "
                     f"{mean['single']:.4f} | {mean['cv5']:.4f} | {secs['single']:.1f} s | {secs['cv5']:.1f} s "
                     f"({secs['cv5'] / secs['single']:.1f}×) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--configs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    one_seed(args.tasks[0], 0, 1, 1)  # warm-up: the first optimizer imports torch._dynamo (seconds)
    rows = []
    for task in args.tasks:
        for seed in range(args.seeds):
            rows.append(one_seed(task, seed, args.configs, args.epochs))
            r = rows[-1]
            print(f"{task} seed {seed}: single {r['single']['test_accuracy']:.4f} "
                  f"cv5 {r['cv5']['test_accuracy']:.4f}", flush=True)
    print(table(rows))
    out = Path(__file__).resolve().parent / "results" / "cv_selection.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()

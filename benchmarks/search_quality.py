"""Search quality: random, grid, tpe, gp and Optuna's TPESampler side by side, through Ray Tune.

Every strategy runs the same way: a Ray Tune `Tuner` with a one-report function trainable, the
search algorithm autolearn's adapter builds from one `SearchSpace` (`make_search`, what the runner
uses), `reuse_actors=True`, at most 2 trials at once. Optuna runs through Ray's `OptunaSearch`
(same space, converted to Optuna distributions) behind the same concurrency limit. One Ray instance
for the whole run. Optuna is a benchmark-only dependency.

    python benchmarks/search_quality.py --seeds 10 --evals 50 \
        --problems branin,hartmann6,rosenbrock4_mixed,hartmann6_noisy,seed_task

Writes raw best-so-far curves to benchmarks/results/search_quality.json, prints the Markdown table
(median and IQR of simple regret after 20 and `--evals` evaluations) and plots median best-so-far
against evaluations per problem to docs/search_quality.png.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")

from autolearn import SearchSpace, make_search, report  # noqa: E402

STRATEGIES = ("random", "grid", "tpe", "gp", "optuna_tpe")

# -- test functions (all minimised; `optimum` is the known minimum) -------------------------------

H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                 [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
CATEGORY_COST = {"a": 0.0, "b": 2.0, "c": 5.0}


def branin(c: dict) -> float:
    x1, x2 = c["x1"], c["x2"]
    b, cc, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + cc * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(c: dict) -> float:
    x = np.array([c[f"x{i}"] for i in range(1, 7)])
    return float(-np.sum(H6_ALPHA * np.exp(-np.sum(H6_A * (x - H6_P) ** 2, axis=1))))


def rosenbrock4_mixed(c: dict) -> float:
    x = [c[f"x{i}"] for i in range(1, 5)]
    rosen = sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))
    return rosen + CATEGORY_COST[c["kind"]] + (c["k"] - 3) ** 2


def _unit(n: int) -> dict:
    return {f"x{i}": {"type": "float", "low": 0.0, "high": 1.0} for i in range(1, n + 1)}


PROBLEMS: dict[str, dict[str, Any]] = {
    "branin": {"fn": branin, "optimum": 0.397887, "space": {
        "x1": {"type": "float", "low": -5.0, "high": 10.0}, "x2": {"type": "float", "low": 0.0, "high": 15.0}},
        "grid": {"x1": {"type": "float", "low": -5.0, "high": 10.0, "step": 2.5},
                 "x2": {"type": "float", "low": 0.0, "high": 15.0, "step": 2.5}}},
    "hartmann6": {"fn": hartmann6, "optimum": -3.32237, "space": _unit(6),
                  "grid": {f"x{i}": {"type": "float", "low": 0.1, "high": 0.9, "step": 0.8} for i in range(1, 7)}},
    "rosenbrock4_mixed": {"fn": rosenbrock4_mixed, "optimum": 0.0, "space": {
        **{f"x{i}": {"type": "float", "low": -2.0, "high": 2.0} for i in range(1, 5)},
        "kind": {"type": "choice", "values": ["a", "b", "c"]}, "k": {"type": "int", "low": 0, "high": 10}}},
    "hartmann6_noisy": {"fn": hartmann6, "optimum": -3.32237, "space": _unit(6), "noise": 0.1},
}


def objective(config: dict) -> None:
    """The user trainable: one report of the (noisy) observed value and the true value."""
    problem = PROBLEMS[config["__problem"]]
    params = {k: v for k, v in config.items() if not k.startswith("__")}
    true = problem["fn"](params)
    noise = problem.get("noise", 0.0)
    rng = np.random.default_rng(zlib.crc32(repr((config["__seed"], sorted(params.items()))).encode()))
    report({"value": true + (noise * rng.normal() if noise else 0.0), "true": true})


# -- one sweep ----------------------------------------------------------------------------------


def optuna_search(space: SearchSpace, seed: int, max_concurrent: int) -> Any:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from ray.tune.search import ConcurrencyLimiter
    from ray.tune.search.optuna import OptunaSearch

    from autolearn.config.space import ChoiceParam, IntParam

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {}
    for name, p in space.items():
        if isinstance(p, ChoiceParam):
            dists[name] = CategoricalDistribution(list(p.values))
        elif isinstance(p, IntParam):
            dists[name] = IntDistribution(p.low, p.high, log=p.log, step=p.step)
        else:
            dists[name] = FloatDistribution(p.low, p.high, log=p.log, step=p.step)
    searcher = OptunaSearch(space=dists, metric="value", mode="min",
                            sampler=optuna.samplers.TPESampler(seed=seed))
    return ConcurrencyLimiter(searcher, max_concurrent=max_concurrent)


def run_sweep(problem: str, strategy: str, seed: int, evals: int, storage: str) -> list[float]:
    """Best-so-far of the true value, in the order trials were suggested."""
    from ray import tune

    spec = PROBLEMS[problem]
    space = SearchSpace.from_dict(spec["grid"] if strategy == "grid" else spec["space"])
    if strategy == "optuna_tpe":
        search_alg, param_space, num_samples = optuna_search(space, seed, 2), {}, evals
    else:
        plan = make_search(strategy, space, "value", "min", seed, num_samples=1 if strategy == "grid" else evals,
                           max_concurrent=2)
        search_alg, param_space, num_samples = plan.search_alg, plan.param_space, plan.num_samples
    fixed = {"__problem": problem, "__seed": seed}
    tuner = tune.Tuner(objective, param_space={**param_space, **fixed},
                       tune_config=tune.TuneConfig(metric="value", mode="min", search_alg=search_alg,
                                                   num_samples=num_samples, reuse_actors=True),
                       run_config=tune.RunConfig(name=f"{problem}-{strategy}-{seed}", storage_path=storage,
                                                 verbose=0))
    grid = tuner.fit()
    rows = []
    for result in grid:
        if result.metrics and "value" in result.metrics:
            order = int(str(result.metrics.get("experiment_tag", "0_")).split("_")[0])
            rows.append((order, result.metrics["value"], result.metrics["true"]))
    rows.sort()
    rows = rows[:evals]
    best, curve, incumbent = math.inf, [], math.inf
    for _, observed, true in rows:
        if observed < best:  # the incumbent is the best *observed*; regret is scored on its true value
            best, incumbent = observed, true
        curve.append(incumbent - spec["optimum"])
    return curve


def seed_task_sweep(strategy: str, seed: int, evals: int, storage: str) -> list[float]:
    """The seed task through `run_experiment`: 1 - best validation accuracy so far."""
    from autolearn import Experiment, run_experiment
    from autolearn.config.defaults import seed_spec

    data = seed_spec()
    data["name"] = f"seedtask-{strategy}-{seed}"
    data["storage"] = storage
    data["train"] = {**data["train"], "epochs": 5}
    data["search"] = {"strategy": strategy, "num_samples": evals, "seed": seed, "max_concurrent": 2}
    result = run_experiment(Experiment.from_dict(data))
    rows = sorted(result.trials, key=lambda t: t.trial_id)  # `<run id>_<counter>`: suggestion order
    best, curve = 0.0, []
    for t in rows:
        best = max(best, t.best_score or 0.0)
        curve.append(1.0 - best)
    return curve


# -- reporting ----------------------------------------------------------------------------------


def summarise(curves: dict, checkpoints: list[int]) -> str:
    lines = ["| problem | strategy | " + " | ".join(f"regret @{n}: median [IQR]" for n in checkpoints) + " |",
             "|---|---|" + "---|" * len(checkpoints)]
    for problem, by_strategy in curves.items():
        for strategy, runs in by_strategy.items():
            cells = []
            for n in checkpoints:
                values = [run[min(n, len(run)) - 1] for run in runs if run]
                q1, med, q3 = np.percentile(values, [25, 50, 75]) if values else (math.nan,) * 3
                cells.append(f"{med:.4g} [{q1:.3g}, {q3:.3g}]")
            lines.append(f"| {problem} | {strategy} (n={len(runs)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.6), squeeze=False)
    names = sorted({s for by in curves.values() for s in by})
    colours = {s: f"C{i}" for i, s in enumerate(names)}  # one colour per strategy in every panel
    for ax, (problem, by_strategy) in zip(axes[0], curves.items()):
        for strategy, runs in by_strategy.items():
            n = min(len(r) for r in runs)
            median = np.median(np.array([r[:n] for r in runs]), axis=0)
            ax.plot(np.arange(1, n + 1), np.maximum(median, 1e-6), label=strategy, color=colours[strategy])
        ax.set_yscale("log")
        ax.set_title(problem)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("median simple regret (best so far)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--evals", type=int, default=50)
    parser.add_argument("--problems", default="branin,hartmann6,rosenbrock4_mixed,hartmann6_noisy,seed_task")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--seed-task-evals", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "search_quality.json"))
    parser.add_argument("--plot", default=str(ROOT / "docs" / "search_quality.png"))
    parser.add_argument("--storage", default="/tmp/autolearn-bench-search")
    parser.add_argument("--report-only", action="store_true", help="table and plot from --out, no runs")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.report_only:
        curves = json.loads(out.read_text())
        print(summarise(curves, sorted({20, args.evals})))
        plot(curves, Path(args.plot))
        return 0
    logging.basicConfig(level=logging.WARNING)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    out.parent.mkdir(parents=True, exist_ok=True)
    curves: dict = json.loads(out.read_text()) if out.exists() else {}
    started = time.monotonic()
    for problem in args.problems.split(","):
        for strategy in args.strategies.split(","):
            if strategy == "grid" and (problem == "seed_task" or "grid" not in PROBLEMS.get(problem, {})):
                continue
            if problem == "seed_task" and strategy == "optuna_tpe":
                continue  # run_experiment has no Optuna strategy (Optuna is not a runtime dependency)
            runs = []
            for seed in range(args.seeds if strategy != "grid" else 1):  # the grid is deterministic
                if problem == "seed_task":
                    runs.append(seed_task_sweep(strategy, seed, args.seed_task_evals, args.storage))
                else:
                    runs.append(run_sweep(problem, strategy, seed, args.evals, args.storage))
                print(f"{time.monotonic() - started:7.0f}s {problem} {strategy} seed {seed}: "
                      f"final regret {runs[-1][-1]:.4g}", flush=True)
            curves.setdefault(problem, {})[strategy] = runs
            out.write_text(json.dumps(curves))
    checkpoints = sorted({20, args.evals})
    print(summarise(curves, checkpoints))
    plot(curves, Path(args.plot))
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

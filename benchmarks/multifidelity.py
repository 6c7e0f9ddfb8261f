"""Multi-fidelity search on real learning curves: LCBench (YAHPO Gym's surrogate) through autolearn.

Each sweep is a Ray Tune `Tuner` over autolearn's own strategies (`make_search`) and schedulers
(`make_scheduler`) and a user trainable that reports the surrogate's curve of one config, a step
of `--step` epochs per report (ASHA's rungs and PBT's intervals count these steps); it checkpoints
its epoch, so PBT/PB2 can exploit. All sweeps share one Ray instance. A sweep ends when the epochs
reported by all its trials reach the budget (`--budget` full 52-epoch trainings); the anytime
curves are indexed by epochs consumed and by simulated time (the surrogate's own `time`, summed).
Regret: the best of 5000 random configs at epoch 52 (one batched ONNX call), minus the best
validation accuracy the sweep has seen so far (percent points).

    python benchmarks/multifidelity.py --seeds 5 --budget 8
    python benchmarks/multifidelity.py --report-only    # table and plot from the saved results

PBT/PB2 rows run only when `autolearn.search.schedulers` knows `pbt`/`pb2`; otherwise they are
skipped with a note. The data are read in place (`--data` or `$AUTOLEARN_LCBENCH`), never copied.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
# Ray workers import `lcbench` (the trainable's module global) by name, and our autolearn.
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")])
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")

import lcbench  # noqa: E402
from mf_report import plot, summarise  # noqa: E402

from autolearn.config.space import ChoiceParam, SearchSpace  # noqa: E402
from autolearn.search import SCHEDULERS, make_scheduler, make_search  # noqa: E402

# Tasks with headroom: the widest gap between random search's 90th percentile and the best of 5000
# random configs at epoch 52 (saturated tasks, 99.6% for anyone, say nothing about a searcher).
TASKS = ("168329", "189873", "167168", "168910", "189906", "167201", "167161", "7593")
EPOCHS = lcbench.EPOCHS
# name → (strategy, strategy options, scheduler)
METHODS: dict[str, tuple[str, dict[str, Any], str]] = {
    "random+fifo": ("random", {}, "fifo"),
    "random+asha": ("random", {}, "asha"),
    "tpe+fifo": ("tpe", {"n_initial_points": 5}, "fifo"),
    "gp+fifo": ("gp", {"n_initial_points": 5}, "fifo"),
    "tpe+asha": ("tpe", {"n_initial_points": 10}, "asha"),
    "bohb": ("bohb", {}, "asha"),
    "pbt": ("random", {}, "pbt"),
    "pb2": ("random", {}, "pb2"),
}
CONCURRENT = 2


def trainable(config: dict[str, Any]) -> None:
    """The surrogate's curve, `__step` epochs a report, from the checkpointed epoch when PBT restores."""
    import tempfile

    from ray import tune

    data, task, step = config["__data"], config["__task"], config["__step"]
    acc, cumulative = lcbench.curve(data, task, config)
    start = 0
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            start = int((Path(folder) / "epoch").read_text())
    for epoch in range(start + step, EPOCHS + 1, step):
        metrics = {"val_accuracy": float(acc[epoch - 1]), "epoch": epoch, "epochs_used": step,
                   # a trial restored at `start` with new settings pays their time from there on
                   "sim_time": float(cumulative[epoch - 1] - (cumulative[epoch - step - 1] if epoch > step else 0.0))}
        if config["__checkpoint"]:
            with tempfile.TemporaryDirectory() as folder:
                (Path(folder) / "epoch").write_text(str(epoch))
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
        else:
            tune.report(metrics)


def _budget_stopper(limit: int) -> Any:
    from ray.tune.stopper import Stopper

    class EpochBudget(Stopper):
        """Ends the sweep once its trials have reported `limit` epochs between them."""

        def __init__(self) -> None:
            self.used = 0

        def __call__(self, trial_id: str, result: dict) -> bool:
            self.used += int(result.get("epochs_used", 0))
            return False

        def stop_all(self) -> bool:
            return self.used >= limit

    return EpochBudget()


def _recorder() -> Any:
    from ray.tune import Callback

    class Recorder(Callback):
        """Every result in the order the driver saw it: the sweep's own clock."""

        def __init__(self) -> None:
            self.rows: list[tuple[int, float, float]] = []

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
            self.rows.append((int(result["epochs_used"]), float(result["sim_time"]), float(result["val_accuracy"])))

    return Recorder()


def _scheduler(name: str, space: SearchSpace, steps: int) -> Any:
    """autolearn's scheduler; PBT/PB2 perturb every 2 steps and may mutate every parameter."""
    if name in ("pbt", "pb2"):
        options: dict[str, Any] = {"perturbation_interval": 2, "mutate": [
            n for n in space if name == "pbt" or not isinstance(space[n], ChoiceParam)]}  # pb2: ranges only
        return make_scheduler(name, options, steps, space)
    options = {"grace_period": 1, "reduction_factor": 3} if name == "asha" else {}
    return make_scheduler(name, options, steps)


def run_sweep(method: str, task: str, seed: int, args: argparse.Namespace, space: SearchSpace) -> dict:
    from ray import tune

    strategy, options, scheduler = METHODS[method]
    steps, limit = EPOCHS // args.step, args.budget * EPOCHS
    population = max(2, min(8, args.budget))
    num_samples = {"fifo": args.budget + CONCURRENT, "pbt": population, "pb2": population}.get(
        scheduler, limit // args.step)
    plan = make_search(strategy, space, "val_accuracy", "max", seed, num_samples=num_samples,
                       max_concurrent=CONCURRENT, **options)
    recorder = _recorder()
    fixed = {"__data": args.data, "__task": task, "__step": args.step, "__checkpoint": scheduler in ("pbt", "pb2")}
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}), param_space={**plan.param_space, **fixed},
        tune_config=tune.TuneConfig(metric="val_accuracy", mode="max", search_alg=plan.search_alg,
                                    scheduler=_scheduler(scheduler, space, steps), num_samples=plan.num_samples,
                                    reuse_actors=True),
        run_config=tune.RunConfig(name=f"{method}-{task}-{seed}", storage_path=args.storage, verbose=0,
                                  stop=_budget_stopper(limit), callbacks=[recorder]))
    started = time.monotonic()
    tuner.fit()
    rows = recorder.rows
    return {"epochs": np.cumsum([r[0] for r in rows]).tolist(),  # rounded: the results file stays small
            "sim_time": np.round(np.cumsum([r[1] for r in rows]), 1).tolist(),
            "best": np.round(np.maximum.accumulate([r[2] for r in rows]), 3).tolist(),
            "wall_s": round(time.monotonic() - started, 1)}


def available(methods: list[str]) -> tuple[list[str], list[str]]:
    """The methods this checkout can run, and a note for each one it cannot."""
    keep, notes = [], []
    for m in methods:
        if METHODS[m][2] not in SCHEDULERS:
            notes.append(f"{m}: skipped, autolearn.search.schedulers has no {METHODS[m][2]!r} in this checkout")
        else:
            keep.append(m)
    return keep, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=lcbench.DEFAULT_DATA, help="the yahpo_lcbench folder (read in place)")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=8, help="epochs per sweep, in full 52-epoch trainings")
    parser.add_argument("--step", type=int, default=4, help="epochs per report (a divisor of 52)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "multifidelity.json"))
    parser.add_argument("--plot", default=str(ROOT / "docs" / "multifidelity.png"))
    parser.add_argument("--storage", default="/tmp/autolearn-bench-mf")
    parser.add_argument("--report-only", action="store_true", help="table and plot from --out, no runs")
    args = parser.parse_args(argv)
    if EPOCHS % args.step:
        parser.error(f"--step must divide {EPOCHS}, got {args.step}")
    out = Path(args.out)
    saved: dict = json.loads(out.read_text()) if out.exists() else {"runs": {}, "reference": {}, "notes": []}
    if not args.report_only:
        import ray

        logging.basicConfig(level=logging.WARNING)
        methods, notes = available(args.methods.split(","))
        saved["notes"] = notes
        saved["settings"] = {"budget": args.budget, "step": args.step, "seeds": args.seeds}
        space = SearchSpace.from_dict(lcbench.space_dict(args.data))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        started = time.monotonic()
        tasks = args.tasks.split(",")
        for task in tasks:
            saved["reference"][task] = lcbench.reference_best(args.data, task)
        for seed in range(args.seeds):  # seeds outermost: a partial run still covers every task
            for task in tasks:
                for method in methods:
                    runs = saved["runs"].setdefault(task, {}).setdefault(method, {})
                    if str(seed) in runs:
                        continue  # finished in an earlier invocation: the benchmark resumes
                    runs[str(seed)] = run_sweep(method, task, seed, args, space)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_text(json.dumps(saved))
                    final = saved["reference"][task] - runs[str(seed)]["best"][-1]
                    print(f"{time.monotonic() - started:7.0f}s {task} {method} seed {seed}: regret {final:.3f} "
                          f"({runs[str(seed)]['wall_s']:.1f}s)", flush=True)
        ray.shutdown()
    print(summarise(saved, saved.get("settings", {}).get("budget", args.budget) * EPOCHS))
    for note in saved.get("notes", []):
        print(f"- {note}")
    plot(saved, Path(args.plot))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

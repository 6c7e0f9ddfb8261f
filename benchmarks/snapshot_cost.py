#!/usr/bin/env python
"""What the experiment-state save at each trial's end costs (`execution/snapshots.py`).

Runs N trivial trials (one report each, no checkpoint) through bare Ray Tune twice in one Ray
instance: with autolearn's `SnapshotOnTrialEnd` callback, which times each save it makes, and
without. Prints the saves, their mean and total time, and both walls. The save grows with the
number of trials (Ray writes every trial's state each time), so it runs at two sizes.

    python benchmarks/snapshot_cost.py [--trials 20 100]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]


def trivial(config: dict) -> None:
    from ray import tune

    tune.report({"score": config["x"]})


def _run(trials: int, storage: str, with_snapshots: bool) -> tuple[float, int, float]:
    from ray import tune

    from autolearn.execution.snapshots import SnapshotOnTrialEnd

    callback = SnapshotOnTrialEnd()
    started = time.perf_counter()
    tune.Tuner(trivial, param_space={"x": tune.uniform(0, 1)},
               tune_config=tune.TuneConfig(num_samples=trials, metric="score", mode="max", reuse_actors=True),
               run_config=tune.RunConfig(name=f"snap-{trials}-{with_snapshots}", storage_path=storage, verbose=0,
                                         callbacks=[callback] if with_snapshots else [])).fit()
    return time.perf_counter() - started, callback.saves, callback.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[20, 100])
    args = parser.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    with tempfile.TemporaryDirectory() as storage:
        _run(4, storage, True)  # warm-up: worker start, imports
        print("| trials | saves | mean save | saves' total | wall with | wall without |")
        print("|---|---|---|---|---|---|")
        for trials in args.trials:
            wall, saves, seconds = _run(trials, storage, True)
            bare, _, _ = _run(trials, storage, False)
            print(f"| {trials} | {saves} | {1000 * seconds / max(saves, 1):.1f} ms | {seconds:.2f} s | "
                  f"{wall:.1f} s | {bare:.1f} s |", flush=True)
    ray.shutdown()


if __name__ == "__main__":
    main()

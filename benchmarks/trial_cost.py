#!/usr/bin/env python
"""Where autolearn's per-trial cost goes, compared with bare Ray Tune, in one Ray instance.

Runs the seed sweep (N configs × 10 epochs, random search) through `run_experiment` with parts
of autolearn's per-trial work switched off one by one, then bare Ray Tune (`reuse_actors=True`,
one report per epoch, no checkpoint) on the same configs. Ray starts once, so start-up is out of
every number; (wall − bare Ray) / N is the per-trial cost of what is still switched on.
Switching parts off is done here, for the measurement only (the TensorBoard callback replaced by
a no-op); the package itself always runs them.

    python benchmarks/trial_cost.py [--trials 30]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]


def _sweep(storage: str, name: str, trials: int, checkpoint_every: int | str = 1) -> tuple[float, list[dict]]:
    from autolearn.config.defaults import seed_spec
    from autolearn.config.spec import Experiment
    from autolearn.execution.runner import run_experiment

    data = seed_spec()
    data.update(name=name, storage=storage)
    data["search"] = {**data["search"], "num_samples": trials}
    data["train"] = {**data["train"], "checkpoint_every": checkpoint_every}
    start = time.perf_counter()
    result = run_experiment(Experiment.from_dict(data))
    return time.perf_counter() - start, [dict(t.config) for t in result.trials]


def _no_tensorboard() -> None:
    from ray.tune import Callback

    import autolearn.inspection.tensorboard as tb

    class Nothing(Callback):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__()

    tb.TensorBoardCallback = Nothing  # type: ignore[misc,assignment]


def _bare_ray(storage: str, configs: list[dict]) -> float:
    from ray import tune
    from seed_overhead import _job, ray_trainable

    job = _job()
    trainable = ray_trainable()

    start = time.perf_counter()
    tune.Tuner(tune.with_resources(tune.with_parameters(trainable, job=job, configs=configs), {"cpu": 1}),
               param_space={"index": tune.grid_search(list(range(len(configs))))},
               tune_config=tune.TuneConfig(metric="val_accuracy", mode="max", reuse_actors=True),
               run_config=tune.RunConfig(storage_path=storage, verbose=0)).fit()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    import ray

    from autolearn.execution.runner import ensure_ray

    ensure_ray(None)
    n, rows = args.trials, []
    with tempfile.TemporaryDirectory() as storage:
        wall, configs = _sweep(storage, "default", n)
        rows.append(("autolearn, checkpoint every epoch (default)", wall))
        rows.append(("autolearn, train.checkpoint_every: auto", _sweep(storage, "auto", n, "auto")[0]))
        _no_tensorboard()
        rows.append(("  ... and no TensorBoard callback", _sweep(storage, "auto-notb", n, "auto")[0]))
        bare = _bare_ray(storage, configs)
        rows.append(("bare Ray Tune, reuse_actors, no checkpoint", bare))
    ray.shutdown()
    print(f"| {n} trials, one Ray instance | wall | per trial vs bare Ray |\n|---|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.1f} s | {(seconds - bare) / n:+.2f} s |")


if __name__ == "__main__":
    main()

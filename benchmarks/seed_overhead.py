#!/usr/bin/env python
"""Wall time of the seed sweep (10 configs × 10 epochs) through autolearn and its peers, same run.

Each variant runs in its own fresh Python process, timed from outside, so start-up (imports, Ray)
counts as a user would feel it. autolearn runs first; the other variants train exactly the configs
autolearn's random search chose, with the same training code (`autolearn.training.loop.Fitter`),
so the differences are the harness, not the work.

    python benchmarks/seed_overhead.py [--repeats 3] [--out docs/overhead.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EPOCHS = 10


def _job():
    from autolearn.config.defaults import seed_experiment
    from autolearn.execution.runner import prepare_job

    return prepare_job(seed_experiment())


def _fit(job, config) -> float:
    import torch

    from autolearn.training.loop import Fitter

    fitter = Fitter(job, config, torch.device("cpu"))
    for _ in range(EPOCHS):
        fitter.train_epoch()
        val_loss, _ = fitter.validate()
        fitter.schedule.step()
    return fitter.validate()[1]


def variant_torch(configs: list[dict]) -> None:
    """A plain PyTorch loop: the configs one after another, in this process."""
    job = _job()
    for config in configs:
        _fit(job, config)


def optuna_study(job, configs: list[dict], n_jobs: int = 1):
    """Optuna's default study over the seed space, the same configs enqueued, run with `n_jobs`."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    for config in configs:
        study.enqueue_trial(config)

    def objective(trial):
        config = {"lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
                  "batch_size": trial.suggest_categorical("batch_size", [16, 32, 64, 128]),
                  "hidden_units": trial.suggest_int("hidden_units", 16, 256, log=True),
                  "optimizer": trial.suggest_categorical("optimizer", ["sgd", "momentum", "adam", "rmsprop"])}
        return _fit(job, config)

    study.optimize(objective, n_trials=len(configs), n_jobs=n_jobs)
    return study


def variant_optuna(configs: list[dict]) -> None:
    """Optuna's default study, the same configs enqueued, sequential (n_jobs=1)."""
    optuna_study(_job(), configs)


def ray_trainable():
    """What a Ray Tune user writes: a function trainable over config `index`, data via with_parameters.

    Made inside a function so Ray's cloudpickle ships it by value (workers need not import this script).
    """
    def trainable(config, job, configs):
        import torch
        from ray import tune as rt

        from autolearn.training.loop import Fitter

        fitter = Fitter(job, configs[config["index"]], torch.device("cpu"))
        for epoch in range(1, EPOCHS + 1):
            fitter.train_epoch()
            val_loss, val_accuracy = fitter.validate()
            fitter.schedule.step()
            rt.report({"val_accuracy": val_accuracy, "val_loss": val_loss, "epoch": epoch})

    return trainable


def _ray_tune(configs: list[dict], reuse: bool) -> None:
    """What a Ray Tune user writes: Tuner over a function trainable, data through with_parameters."""
    import ray
    from ray import tune

    job = _job()
    trainable = ray_trainable()

    ray.init(include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    with tempfile.TemporaryDirectory() as storage:
        tuner = tune.Tuner(tune.with_resources(tune.with_parameters(trainable, job=job, configs=configs), {"cpu": 1}),
                           param_space={"index": tune.grid_search(list(range(len(configs))))},
                           tune_config=tune.TuneConfig(metric="val_accuracy", mode="max", reuse_actors=reuse),
                           run_config=tune.RunConfig(storage_path=storage, verbose=0))
        tuner.fit()
    ray.shutdown()


def variant_ray(configs: list[dict]) -> None:
    _ray_tune(configs, reuse=False)


def variant_ray_reuse(configs: list[dict]) -> None:
    _ray_tune(configs, reuse=True)


VARIANTS = {"torch": variant_torch, "optuna": variant_optuna, "ray": variant_ray, "ray_reuse": variant_ray_reuse}
LABELS = {"autolearn": "autolearn (`python scripts/sweep.py`, default path)", "torch": "plain PyTorch loop",
          "optuna": "Optuna (sequential)", "ray": "plain Ray Tune (defaults)",
          "ray_reuse": "plain Ray Tune, `reuse_actors=True`"}


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _autolearn(storage: str, name: str) -> tuple[float, list[dict]]:
    seconds = _timed([sys.executable, "scripts/sweep.py", "--quiet", "--storage", storage, "--name", name])
    with open(Path(storage) / name / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    configs = [{"lr": float(r["lr"]), "batch_size": int(r["batch_size"]), "hidden_units": int(r["hidden_units"]),
                "optimizer": r["optimizer"]} for r in rows]
    return seconds, configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--configs", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="also write the raw timings as JSON here")
    args = parser.parse_args()
    if args.variant:
        VARIANTS[args.variant](json.loads(Path(args.configs).read_text()))
        return
    times: dict[str, list[float]] = {k: [] for k in LABELS}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            seconds, configs = _autolearn(tmp, f"bench-{rep}")
            times["autolearn"].append(seconds)
            config_file = Path(tmp) / "configs.json"
            config_file.write_text(json.dumps(configs))
            for name in VARIANTS:
                times[name].append(_timed([sys.executable, __file__, "--variant", name, "--configs", str(config_file)]))
            print(f"repeat {rep + 1}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in times.items()), file=sys.stderr)
    median = {k: statistics.median(v) for k, v in times.items()}
    base = median["torch"]
    print("| harness | wall time (median) | × plain PyTorch | overhead per trial | × Ray Tune reuse_actors |")
    print("|---|---|---|---|---|")
    for key, label in LABELS.items():
        print(f"| {label} | {median[key]:.1f} s | {median[key] / base:.2f} | {(median[key] - base) / 10:.2f} s "
              f"| {median[key] / median['ray_reuse']:.2f} |")
    if args.out:
        Path(args.out).write_text(json.dumps({"runs": times, "median": median}, indent=2))


if __name__ == "__main__":
    main()

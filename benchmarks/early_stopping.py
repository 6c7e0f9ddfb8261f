"""Early stopping: ASHA against FIFO, random search, on the seed task and on digits.

Each sweep is `run_experiment` on the built-in trainable (the real path), the same random configs
for both schedulers (same `search.seed`), so the only difference is which trials ASHA stops.
Reported per dataset: best validation accuracy (median over seeds) and total epochs trained.

    python benchmarks/early_stopping.py --seeds 5 --trials 30 --epochs 10

Target (issue 3): ASHA's best within 1% of FIFO's at no more than a third of the epochs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

from autolearn import Experiment, run_experiment  # noqa: E402
from autolearn.config.defaults import seed_spec  # noqa: E402

DATASETS = {
    "seed_task": None,  # the seed spec's own dataset
    "digits": {"name": "digits"},
}


def sweep(dataset: str, scheduler: str, seed: int, trials: int, epochs: int, storage: str) -> dict:
    data = seed_spec()
    data["name"] = f"es-{dataset}-{scheduler}-{seed}"
    data["storage"] = storage
    if DATASETS[dataset] is not None:
        data["task"] = {**data["task"], "dataset": DATASETS[dataset]}
    data["train"] = {**data["train"], "epochs": epochs}
    data["search"] = {"strategy": "random", "num_samples": trials, "seed": seed}
    data["scheduler"] = {"name": "asha", "grace_period": 1, "reduction_factor": 3} if scheduler == "asha" \
        else {"name": "fifo"}
    started = time.monotonic()
    result = run_experiment(Experiment.from_dict(data))
    return {"best": max((t.best_score or 0.0) for t in result.trials),
            "epochs": sum(t.epochs for t in result.trials), "wall_s": time.monotonic() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--datasets", default="seed_task,digits")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "early_stopping.json"))
    parser.add_argument("--storage", default="/tmp/autolearn-bench-es")
    args = parser.parse_args(argv)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    runs: dict = {}
    for dataset in args.datasets.split(","):
        for seed in range(args.seeds):
            for scheduler in ("fifo", "asha"):
                out = sweep(dataset, scheduler, seed, args.trials, args.epochs, args.storage)
                runs.setdefault(dataset, {}).setdefault(scheduler, []).append(out)
                print(f"{dataset} {scheduler} seed {seed}: {out}", flush=True)
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                Path(args.out).write_text(json.dumps(runs, indent=1))
    print("| dataset | scheduler | best val accuracy (median) | total epochs (median) | epochs vs fifo |")
    print("|---|---|---|---|---|")
    for dataset, by in runs.items():
        fifo_epochs = np.median([r["epochs"] for r in by["fifo"]])
        for scheduler, rs in by.items():
            epochs = np.median([r["epochs"] for r in rs])
            print(f"| {dataset} | {scheduler} (n={len(rs)}) | {np.median([r['best'] for r in rs]):.4f} | "
                  f"{epochs:.0f} | {epochs / fifo_epochs:.2f} |")
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

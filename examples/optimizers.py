"""The optimizer guide's measurements: gd, sgd, momentum, nesterov, adam, adamw, rmsprop, each at its
tuned learning rate, on the seed task and on digits; loss against epochs and against wall time.

    python examples/optimizers.py [--epochs 20] [--out docs/optimizers]

Each optimizer gets a small sweep of its own: the same nine learning rates, 1e-4 to 1 in half
decades, trained with autolearn's own loop (`training.loop.Fitter`, the code every trial runs)
without Ray, so the clock times the optimizer and not the scheduler. The rate with the lowest
validation loss (at any epoch) is the tuned one; its run gives the curves. Writes
`<out>/<task>_loss.png` (validation loss against epochs and against seconds) and
`<out>/results.json`; docs/optimizers.md shows them.
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch

from autolearn.config.spec import Experiment
from autolearn.training.data import load_dataset
from autolearn.training.loop import Fitter, TrainJob

OPTIMIZERS = ("gd", "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop")
RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)
TASKS = {
    "seed": ("synthetic_classification", {"n_samples": 1000, "n_features": 20, "random_state": 42}),
    "digits": ("digits", {}),
}
# rmsprop here is the textbook rule (no momentum); momentum and nesterov use 0.9.
EXTRA = {"rmsprop": {"momentum": 0.0}}
log = logging.getLogger("optimizers")


def job_for(task: str, epochs: int) -> TrainJob:
    name, params = TASKS[task]
    exp = Experiment.from_dict({"task": {"dataset": {"name": name, **params}},
                                "train": {"epochs": epochs, "batch_size": 32, "seed": 0}})
    data = load_dataset(name, params, 0.2, 0.2, 42)
    return TrainJob(data=data, model=exp.model, train=exp.train)


def train(job: TrainJob, optimizer: str, lr: float) -> dict[str, Any]:
    """One run: per epoch the validation loss and accuracy, the training loss, and the seconds so far."""
    torch.set_num_threads(1)
    fitter = Fitter(job, {"optimizer": optimizer, "lr": lr, **EXTRA.get(optimizer, {})}, torch.device("cpu"))
    curve: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_accuracy": [], "seconds": []}
    spent = 0.0
    for _ in range(job.train.epochs):
        started = time.perf_counter()
        train_loss = fitter.train_epoch()
        spent += time.perf_counter() - started
        val_loss, val_accuracy = fitter.validate() if train_loss == train_loss else (float("nan"),) * 2
        for key, value in zip(curve, (train_loss, val_loss, val_accuracy, spent)):
            curve[key].append(float(value))
    return curve


def best_val_loss(curve: dict[str, list[float]]) -> float:
    finite = [v for v in curve["val_loss"] if v == v and v < float("inf")]
    return min(finite) if finite else float("inf")


def tune(job: TrainJob, optimizer: str) -> dict[str, Any]:
    """The small sweep: every rate, keep the one whose best validation loss is lowest."""
    runs = {lr: train(job, optimizer, lr) for lr in RATES}
    lr = min(runs, key=lambda r: best_val_loss(runs[r]))
    curve = runs[lr]
    epoch = curve["val_loss"].index(best_val_loss(curve))
    return {"lr": lr, "curve": curve, "best_val_loss": best_val_loss(curve), "best_epoch": epoch + 1,
            "val_accuracy_at_best": curve["val_accuracy"][epoch], "final_val_accuracy": curve["val_accuracy"][-1],
            "seconds_per_epoch": curve["seconds"][-1] / len(curve["seconds"]),
            "sweep": {str(r): best_val_loss(c) for r, c in runs.items()}}


def plot(task: str, results: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for i, (name, res) in enumerate(results.items()):
        curve, label = res["curve"], f"{name} (lr {res['lr']:g})"
        epochs = range(1, len(curve["val_loss"]) + 1)
        by_epoch.plot(epochs, curve["val_loss"], color=f"C{i}", label=label)
        by_time.plot(curve["seconds"], curve["val_loss"], color=f"C{i}", label=label)
    by_epoch.set_xlabel("epoch")
    by_time.set_xlabel("training seconds (one CPU thread)")
    by_epoch.set_ylabel("validation loss")
    by_time.set_xscale("log")
    by_epoch.set_title(f"{task}: validation loss per epoch", fontsize=9)
    by_time.set_title(f"{task}: validation loss against wall time", fontsize=9)
    by_time.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--out", default="docs/optimizers")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"epochs": args.epochs, "rates": RATES, "tasks": {}}
    for task in args.tasks:
        job = job_for(task, args.epochs)
        results = {name: tune(job, name) for name in OPTIMIZERS}
        plot(task, results, out / f"{task}_loss.png")
        summary["tasks"][task] = {name: {k: v for k, v in res.items() if k != "curve"} | {"curve": res["curve"]}
                                  for name, res in results.items()}
        for name, res in results.items():
            print(f"{task:7s} {name:9s} lr={res['lr']:<7g} best val loss {res['best_val_loss']:.4f} "
                  f"(epoch {res['best_epoch']}) val acc {res['val_accuracy_at_best']:.3f} "
                  f"{res['seconds_per_epoch'] * 1000:.1f} ms/epoch")
    (out / "results.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()

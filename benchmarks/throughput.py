#!/usr/bin/env python
"""Trials per minute on the seed task (10 epochs) at 10, 100 (and 1000) trials of random search.

Side by side in one run, each variant in its own fresh Python process, timed from outside (so
start-up counts as a user feels it), with the peak memory of its whole process tree (the driver,
Ray's daemons and workers) sampled every 0.2 s:

- a plain PyTorch loop over the same configs in one process (the floor),
- Optuna in-process, `n_jobs` 1 and 2 (the same configs enqueued),
- plain Ray Tune with its defaults and with `reuse_actors=True`,
- autolearn unfused (`python scripts/sweep.py`), and fused (`--fuse auto`, 8, 32): on one machine
  without GPUs a fused sweep trains in the driver's process and never starts Ray.

autolearn's random search (seed 42) picks the configs; every other variant trains exactly those,
with the same training code (`autolearn.training.loop.Fitter`, via `seed_overhead.py`), so the
differences are the harness. Each reports the best final validation accuracy it saw and the
test accuracy of that model (Ray Tune: validation only; autolearn: its best checkpoint).

    python benchmarks/throughput.py [--trials 10 100] [--with-1000] [--out benchmarks/results/throughput.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]
from seed_overhead import _fit, _job, _ray_tune, optuna_study  # noqa: E402  (the shared harness)

AUTOLEARN = {"autolearn": 1, "fused_auto": "auto", "fused_8": 8, "fused_32": 32}
LABELS = {"torch": "plain PyTorch loop", "optuna_1": "Optuna, n_jobs=1", "optuna_2": "Optuna, n_jobs=2",
          "ray": "Ray Tune (defaults)", "ray_reuse": "Ray Tune, reuse_actors", "autolearn": "autolearn unfused",
          "fused_auto": "autolearn --fuse auto", "fused_8": "autolearn --fuse 8", "fused_32": "autolearn --fuse 32"}


def _scored(job, configs: list[dict]) -> dict:
    """Train each config (10 epochs); the best final val accuracy and that model's test accuracy."""
    scores = [_fit(job, config) for config in configs]
    best = max(range(len(configs)), key=scores.__getitem__)
    return {"val_accuracy": scores[best], "test_accuracy": _test_of(job, configs[best])}


def _test_of(job, config: dict) -> float:
    import torch

    from autolearn.training.loop import Fitter

    torch.manual_seed(0)
    fitter = Fitter(job, config, torch.device("cpu"))
    for _ in range(10):
        fitter.train_epoch()
        fitter.validate()
        fitter.schedule.step()
    x, y = fitter._tensors(job.data.x_test, job.data.y_test)
    return fitter.evaluate(x, y)[1]


def variant_torch(configs: list[dict]) -> dict:
    return _scored(_job(), configs)


def _optuna(configs: list[dict], n_jobs: int) -> dict:
    job = _job()
    study = optuna_study(job, configs, n_jobs)
    return {"val_accuracy": study.best_value, "test_accuracy": _test_of(job, study.best_params)}


VARIANTS = {
    "torch": variant_torch,
    "optuna_1": lambda configs: _optuna(configs, 1),
    "optuna_2": lambda configs: _optuna(configs, 2),
    "ray": lambda configs: _ray_tune(configs, reuse=False) or {},
    "ray_reuse": lambda configs: _ray_tune(configs, reuse=True) or {},
}


def _tree_rss(root: int) -> int:
    """Resident memory (bytes) of `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _measured(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak tree RSS of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{err[-3000:]}")
    return seconds, peak[0]


def _autolearn(tmp: Path, trials: int, fuse: int | str, name: str) -> tuple[float, int, dict, list[dict]]:
    seconds, peak = _measured([sys.executable, "scripts/sweep.py", "--quiet", "--storage", str(tmp), "--name", name,
                               "--num-samples", str(trials), "--fuse", str(fuse)])
    with open(tmp / name / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    configs = [{"lr": float(r["lr"]), "batch_size": int(r["batch_size"]), "hidden_units": int(r["hidden_units"]),
                "optimizer": r["optimizer"]} for r in rows]
    summary = json.loads((tmp / name / "summary.json").read_text())
    scores = {"val_accuracy": summary.get("best_score"), "test_accuracy": summary.get("test_accuracy")}
    return seconds, peak, scores, configs


def run_size(trials: int, tmp: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    configs: list[dict] = []
    for key, fuse in AUTOLEARN.items():
        seconds, peak, scores, configs = _autolearn(tmp, trials, fuse, f"{key}-{trials}")
        out[key] = {"seconds": seconds, "peak_rss": peak, **scores}
        print(f"{trials} trials, {key}: {seconds:.1f} s", file=sys.stderr)
    config_file, result_file = tmp / f"configs-{trials}.json", tmp / f"result-{trials}.json"
    config_file.write_text(json.dumps(configs))
    for key in VARIANTS:
        seconds, peak = _measured([sys.executable, __file__, "--variant", key, "--configs", str(config_file),
                                   "--result", str(result_file)])
        out[key] = {"seconds": seconds, "peak_rss": peak, **json.loads(result_file.read_text())}
        print(f"{trials} trials, {key}: {seconds:.1f} s", file=sys.stderr)
    return out


def _acc(value: float | None) -> str:
    return "—" if value is None or value != value else f"{value:.4f}"


def table(results: dict[str, dict[str, dict]]) -> str:
    lines = ["| trials | harness | wall time | trials/min | × plain loop | peak RSS (tree) | best val acc "
             "| its test acc |",
             "|---|---|---|---|---|---|---|---|"]
    for trials, by_key in results.items():
        base = by_key["torch"]["seconds"]
        for key, label in LABELS.items():
            r = by_key.get(key)
            if r is None:
                continue
            lines.append(f"| {trials} | {label} | {r['seconds']:.1f} s | {int(trials) * 60 / r['seconds']:.1f} | "
                         f"{r['seconds'] / base:.2f} | {r['peak_rss'] / 2**20:.0f} MiB | "
                         f"{_acc(r.get('val_accuracy'))} | {_acc(r.get('test_accuracy'))} |")
    return "\n".join(lines)


def plot(results: dict[str, dict[str, dict]], path: str) -> None:
    """Trials per minute against the number of trials, one line per harness (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    sizes = sorted(results, key=int)
    for key, label in LABELS.items():
        points = [(int(n), int(n) * 60 / results[n][key]["seconds"]) for n in sizes if key in results[n]]
        if points:
            ax.plot(*zip(*points), marker="o", label=label)
    ax.set(xscale="log", yscale="log", xlabel="trials (seed task, 10 epochs each)", ylabel="trials per minute")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--with-1000", action="store_true", help="also 1000 trials (hours on 2 cores)")
    parser.add_argument("--only", nargs="+", choices=sorted(LABELS), help="run only these variants")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--configs", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="also write the raw numbers as JSON here")
    parser.add_argument("--plot", help="also draw trials per minute against trials into this PNG")
    parser.add_argument("--report-only", help="print the table (and --plot) of this JSON, run nothing")
    args = parser.parse_args()
    if args.report_only:
        results = json.loads(Path(args.report_only).read_text())
        print(table(results))
        if args.plot:
            plot(results, args.plot)
        return
    if args.variant:
        scores = VARIANTS[args.variant](json.loads(Path(args.configs).read_text()))
        Path(args.result).write_text(json.dumps(scores))
        return
    if args.only:
        for key in set(AUTOLEARN) - set(args.only):  # the last autolearn run's configs feed the others
            AUTOLEARN.pop(key)
        if not AUTOLEARN:
            parser.error("--only needs at least one autolearn variant (its configs are the ones every harness trains)")
        for key in set(VARIANTS) - set(args.only) - {"torch"}:
            VARIANTS.pop(key)
    sizes = [*args.trials, *([1000] * args.with_1000)]
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for trials in sizes:
            results[str(trials)] = run_size(trials, Path(tmp))
            if args.out:
                Path(args.out).write_text(json.dumps(results, indent=2))
    print(table(results))
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()

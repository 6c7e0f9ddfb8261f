#!/usr/bin/env python
"""Fused training on one GPU against fractional-GPU trials: K configs as one batched model vs K
separate processes sharing the card (torch.multiprocessing, P at a time, standing in for Ray's
gpus_per_trial = 1/P). Needs only torch, numpy and scikit-learn: the fused core is loaded from
autolearn/training/fused/*.py by file path, without importing autolearn (no ray, no pyyaml).

Work: random configs of the seed space (width 16-256, batch 16/32/64/128, sgd/momentum/adam/rmsprop,
lr 1e-4..1e-1), the seed MLP on the seed data (make_classification 1000x20, split and standardised as
autolearn does), and the digits CNN (channels 4/8/16/32, lr up to 1e-2) on sklearn's digits; 10
epochs each with a validation pass per epoch. Reported per variant: training
time and configs*epochs per second (each process's clock starts after its CUDA context and its
first optimizer, which imports torch._dynamo), wall time with process start-up, peak GPU memory
(allocated by torch; and the card's used memory, CUDA contexts included), and how far the fused
members' final validation losses are from the solo runs'.

    python benchmarks/gpu_fused.py                      # on a GPU machine, ~2-3 min
    python benchmarks/gpu_fused.py --device cpu --quick # smoke test anywhere
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import random
import statistics
import sys
import time
import types
from pathlib import Path

import numpy as np
import torch
import torch.multiprocessing as mp

FUSED_DIR = Path(__file__).resolve().parent.parent / "autolearn" / "training" / "fused"
OPTIMIZERS = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr, weight_decay=0.0),
    "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, weight_decay=0.0, momentum=0.9),
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr, weight_decay=0.0),
    "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr, weight_decay=0.0, momentum=0.9),
}  # as autolearn/training/optim.py builds them (momentum 0.9 is the spec's default)


def load_core() -> types.ModuleType:
    """autolearn/training/fused/core.py as module `fusedcore.core`, its package __init__ not run."""
    package = types.ModuleType("fusedcore")
    package.__path__ = [str(FUSED_DIR)]
    sys.modules["fusedcore"] = package
    return importlib.import_module("fusedcore.core")


def _split(x: np.ndarray, y: np.ndarray, binary: bool) -> dict:
    """autolearn's split: 20% test, 20% of the rest validation, stratified, standardised per feature."""
    from sklearn.model_selection import train_test_split

    x = x.astype(np.float32)
    x_rest, _, y_rest, _ = train_test_split(x, y, test_size=0.2, random_state=42, stratify=y)
    x_tr, x_va, y_tr, y_va = train_test_split(x_rest, y_rest, test_size=0.2, random_state=42, stratify=y_rest)
    mean, std = x_tr.mean(axis=0, keepdims=True), x_tr.std(axis=0, keepdims=True)
    std[std == 0] = 1.0
    scale = lambda a: torch.tensor(((a - mean) / std).astype(np.float32))
    return {"x_train": scale(x_tr), "y_train": torch.tensor(y_tr), "x_val": scale(x_va), "y_val": torch.tensor(y_va),
            "binary": binary}


def seed_data() -> dict:
    """autolearn's seed task: make_classification(1000x20), two classes."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=1000, n_features=20, n_informative=2, n_redundant=2, n_classes=2,
                               n_clusters_per_class=2, class_sep=1.0, flip_y=0.01, random_state=42)
    return _split(x, y, True)


def digits_data() -> dict:
    """scikit-learn's 8x8 digits as flat rows (autolearn's `digits` dataset), ten classes."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _split(bunch.data, bunch.target, False)


def configs(k: int, seed: int, task: str = "mlp") -> list[dict]:
    rng = random.Random(seed)
    out = [{"lr": 10 ** rng.uniform(-4, -1), "batch_size": rng.choice([16, 32, 64, 128]),
            "hidden_units": int(round(2 ** rng.uniform(4, 8))),
            "optimizer": rng.choice(["sgd", "momentum", "adam", "rmsprop"])} for _ in range(k)]
    if task == "cnn":  # the digits CNN: channels searched, the head's width fixed at the builder's 64
        for c in out:
            c.update(channels=rng.choice([4, 8, 16, 32]), hidden_units=64, lr=min(c["lr"], 1e-2))
    return out


def build(config: dict, task: str = "mlp", seed: int = 0) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """The seed MLP (depth 2, relu) or autolearn's digits CNN, with the trial's seed, as Evaluator
    builds them (same module order, so the same initial draw), and the trial's optimizer."""
    from torch import nn

    torch.manual_seed(seed)
    w = config["hidden_units"]
    if task == "cnn":
        c = config["channels"]
        body = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(c, c * 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        model: nn.Module = nn.Sequential(body, nn.Linear(c * 2 * 4, w), nn.ReLU(), nn.Linear(w, 10))
    else:
        model = nn.Sequential(nn.Flatten(), nn.Linear(20, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 1))
    return model, OPTIMIZERS[config["optimizer"]](model.parameters(), config["lr"])


def used_memory(device: torch.device) -> int:
    """Bytes in use on the whole card (every process, CUDA contexts included)."""
    if device.type != "cuda":
        return 0
    free, total = torch.cuda.mem_get_info(device)
    return total - free


def solo_train(config: dict, data: dict, device: torch.device, epochs: int, task: str) -> float:
    """Fitter's loop: seeded model, randperm batches from a seeded generator, mean loss, validation."""
    model, optimizer = build(config, task)
    model.to(device)
    binary = data["binary"]
    label = (lambda y: y.to(device).float()) if binary else (lambda y: y.to(device).long())
    x, y = data["x_train"].to(device), label(data["y_train"])
    xv, yv = data["x_val"].to(device), label(data["y_val"])
    loss_fn = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
    out = (lambda logits: logits.squeeze(1)) if binary else (lambda logits: logits)
    generator = torch.Generator().manual_seed(0)
    n, batch = len(x), min(config["batch_size"], len(x))
    val = math.nan
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n, generator=generator).to(device)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(out(model(x[idx])), y[idx])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val = float(loss_fn(out(model(xv)), yv))
    return val


def _full_fp32() -> None:
    """No TF32 in matmuls or cuDNN convs, in every process: fused and solo then differ only by
    reduction order, so the equivalence column means something."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def _worker(rank: int, shares: list[list[tuple[int, dict]]], data, device_name: str, epochs: int, task: str,
            queue) -> None:
    torch.set_num_threads(1)
    _full_fp32()
    device = torch.device(device_name)
    if device.type == "cuda":
        torch.zeros(1, device=device)  # the CUDA context, before the clock starts
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # the one-off torch._dynamo import too
    start = time.perf_counter()
    out = {i: solo_train(c, data, device, epochs, task) for i, c in shares[rank]}
    train_s = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
    queue.put((rank, out, peak, used_memory(device), train_s))


def run_processes(cfgs: list[dict], procs: int, data, device: torch.device, epochs: int, task: str) -> dict:
    """K trials in `procs` concurrent processes sharing the device (spawned, each its own CUDA context)."""
    shares: list[list[tuple[int, dict]]] = [[] for _ in range(procs)]
    for i, c in enumerate(cfgs):
        shares[i % procs].append((i, c))
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start = time.perf_counter()
    workers = [ctx.Process(target=_worker, args=(r, shares, data, str(device), epochs, task, queue))
               for r in range(procs)]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    vals: dict[int, float] = {}
    for _, out, *_ in results:
        vals.update(out)
    return {"wall_s": wall, "train_s": max(r[4] for r in results), "val_loss": [vals[i] for i in range(len(cfgs))],
            "peak_alloc_mb": sum(r[2] for r in results) / 2**20, "device_used_mb": max(r[3] for r in results) / 2**20}


def run_fused(core_mod, cfgs: list[dict], data, device: torch.device, epochs: int, max_pad: float, mix: bool,
              task: str) -> dict:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    core = core_mod.FusedCore(data["x_train"], data["y_train"], data["x_val"], data["y_val"], data["binary"], device,
                              max_pad=max_pad, mix_batches=mix)
    for i, config in enumerate(cfgs):
        model, optimizer = build(config, task)
        core.add(str(i), model, optimizer, config["batch_size"], torch.Generator().manual_seed(0))
    vals: dict[str, tuple[float, float]] = {}
    for _ in range(epochs):
        core.train_epoch()
        vals = core.validate()
    wall = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else 0.0
    return {"wall_s": wall, "train_s": wall, "val_loss": [vals[str(i)][0] for i in range(len(cfgs))],
            "peak_alloc_mb": peak,
            "device_used_mb": used_memory(device) / 2**20, "buckets": len(core.buckets())}


def _diff(fused: list[float], solo: list[float], cfgs: list[dict]) -> dict:
    """Relative val-loss difference, all configs and those at moderate learning rates (<= 1e-2)."""
    rel = [abs(f - s) / abs(s) for f, s in zip(fused, solo) if math.isfinite(f) and math.isfinite(s)]
    calm = [abs(f - s) / abs(s) for f, s, c in zip(fused, solo, cfgs)
            if math.isfinite(f) and math.isfinite(s) and c["lr"] <= 1e-2]
    return {"max_rel": max(rel, default=0.0), "median_rel": statistics.median(rel) if rel else 0.0,
            "max_rel_lr_le_1e-2": max(calm, default=0.0)}


def _measure(task: str, k: int, core_mod, data, device: torch.device, procs: list[int],
             epochs: int) -> list[tuple[str, dict]]:
    """Every variant for one K; a variant that fails is reported as such and the others still run."""
    cfgs = configs(k, seed=k, task=task)
    base = run_processes(cfgs, 1, data, device, epochs, task)
    variants: list[tuple[str, dict]] = [("1 process, one after another", base)]
    plans = [(f"{p} processes (gpu 1/{p} each)", lambda p=p: run_processes(cfgs, p, data, device, epochs, task))
             for p in procs if p < k]
    for pad, mix, label in ((2.0, False, "fused max_pad=2 split"), (2.0, True, "fused max_pad=2 mix"),
                            (math.inf, True, "fused max_pad=inf mix")):
        plans.append((label, lambda pad=pad, mix=mix: run_fused(core_mod, cfgs, data, device, epochs, pad, mix, task)))
    for label, plan in plans:
        try:
            result = plan()
        except Exception as err:  # one failed variant must not cost the whole (single) GPU run
            print(f"| {task} | {k} | {label} | failed: {type(err).__name__}: {err} |", flush=True)
            continue
        if "buckets" in result:
            result["diff"] = _diff(result["val_loss"], base["val_loss"], cfgs)
            label = f"{label} ({result['buckets']} buckets)"
        variants.append((label, result))
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 epochs: a smoke test")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 32, 128], help="K for the seed MLP")
    parser.add_argument("--cnn-sizes", type=int, nargs="*", default=[1, 8, 32], help="K for the digits CNN")
    parser.add_argument("--procs", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--budget-s", type=float, default=200.0, help="start no new case after this many seconds")
    args = parser.parse_args()
    began = time.perf_counter()
    device = torch.device(args.device)
    mlp_sizes, cnn_sizes, procs, epochs = (([1, 4], [1, 4], [2], 2) if args.quick
                                           else (args.sizes, args.cnn_sizes, args.procs, 10))
    torch.set_num_threads(1)
    _full_fp32()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}; torch {torch.__version__}; {epochs} epochs per config", flush=True)
    core_mod, datasets = load_core(), {"mlp": seed_data(), "cnn": digits_data()}
    for task in datasets:  # warm-up: kernels, allocator
        run_fused(core_mod, configs(2, 0, task), datasets[task], device, 1, 2.0, False, task)
    # Small K first, both models, so that a run cut short by --budget-s still has the whole picture.
    cases = sorted([(k, "mlp") for k in mlp_sizes] + [(k, "cnn") for k in cnn_sizes])
    rows, table = [], ["| model | K | variant | training (s) | cfg·epochs/s | × 1 process "
                       "| wall with process start (s) | peak alloc (MB) | device used (MB) "
                       "| val loss rel. diff max / median / max at lr≤1e-2 |",
                       "|---|---|---|---|---|---|---|---|---|---|"]
    out = os.environ.get("OUT")
    for k, task in cases:
        if time.perf_counter() - began > args.budget_s:
            print(f"skipped {task} K={k} and the rest: past --budget-s {args.budget_s:g}", flush=True)
            break
        variants = _measure(task, k, core_mod, datasets[task], device, procs, epochs)
        base = variants[0][1]
        model = "seed MLP" if task == "mlp" else "digits CNN"
        for label, r in variants:
            rate = k * epochs / r["train_s"]
            d = r.get("diff")
            diff = f"{d['max_rel']:.1e} / {d['median_rel']:.1e} / {d['max_rel_lr_le_1e-2']:.1e}" if d else ""
            table.append(f"| {model} | {k} | {label} | {r['train_s']:.2f} | {rate:.1f} | "
                         f"{base['train_s'] / r['train_s']:.1f}× | {r['wall_s']:.2f} | {r['peak_alloc_mb']:.0f} | "
                         f"{r['device_used_mb']:.0f} | {diff} |")
            rows.append({"model": task, "k": k, "variant": label,
                         **{key: v for key, v in r.items() if key != "val_loss"}})
        print("\n".join(table[-len(variants):]), flush=True)
        if out:  # after every case: a run cut short still leaves what it measured
            Path(out).mkdir(parents=True, exist_ok=True)
            (Path(out) / "gpu_fused.json").write_text(json.dumps(
                {"device": name, "torch": torch.__version__, "epochs": epochs, "rows": rows}, indent=1))
    print()
    print("\n".join(table))
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Training throughput of the fused core against the same configs trained one after another.

K random configs of the seed space (width 16-256 log, batch 16/32/64/128, sgd/momentum/adam/rmsprop,
lr 1e-4..1e-1 log), 10 epochs each, one torch thread (what a one-CPU trial gets), in this process:
  solo   K `Fitter`s one after another (train_trial's epoch loop without Ray);
  fused  one `FusedGroup` holding all K, for several `max_pad` (the widest/narrowest ratio in a bucket).
Reported: configs·epochs per second and the ratio to solo, plus the worst relative difference of the
final validation losses (fused vs solo). `--kernels` also times one fused forward+backward of K
identical seed MLPs as batched matmuls (what the core does) against torch.func's vmap.

    python benchmarks/fused_micro.py [--sizes 1 8 32] [--repeats 3] [--kernels]
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EPOCHS = 10


def _job():
    from autolearn.config.spec import ModelSpec, TrainSpec
    from autolearn.training.data import load_dataset
    from autolearn.training.loop import TrainJob

    data = load_dataset("synthetic_classification", {"random_state": 42}, 0.2, 0.2, 42)
    return TrainJob(data, ModelSpec("mlp", {"hidden_units": 64, "depth": 2}), TrainSpec(epochs=EPOCHS))


def configs(k: int, seed: int, same_shape: bool = False) -> list[dict]:
    """Random seed-space configs; `same_shape`: the seed spec's MLP (width 64, batch 32, adam), lr varied."""
    rng = random.Random(seed)
    if same_shape:
        return [{"lr": 10 ** rng.uniform(-4, -2), "batch_size": 32, "hidden_units": 64, "optimizer": "adam"}
                for _ in range(k)]
    return [{"lr": 10 ** rng.uniform(-4, -1), "batch_size": rng.choice([16, 32, 64, 128]),
             "hidden_units": int(round(2 ** rng.uniform(4, 8))),
             "optimizer": rng.choice(["sgd", "momentum", "adam", "rmsprop"])} for _ in range(k)]


def solo(job, cfgs: list[dict]) -> list[float]:
    from autolearn.training.loop import Fitter
    from autolearn.training.optim import step_schedule

    out = []
    for config in cfgs:
        fitter = Fitter(job, config, torch.device("cpu"))
        val = math.nan
        for _ in range(EPOCHS):
            if not math.isfinite(fitter.train_epoch()):
                break
            val, _ = fitter.validate()
            step_schedule(fitter.settings.lr_schedule, fitter.schedule, val)
        out.append(val)
    return out


def fused(job, cfgs: list[dict], max_pad: float, mix: bool = False) -> list[float]:
    from autolearn.training.fused import FusedGroup

    group = FusedGroup(job, torch.device("cpu"), max_pad=max_pad, mix_batches=mix)
    for i, config in enumerate(cfgs):
        group.add(str(i), config)
    last: dict[str, float] = {}
    while group.active():
        for key, metrics in group.train_epoch().items():
            last[key] = metrics["val_loss"]
    return [last[str(i)] for i in range(len(cfgs))]


def _rel(a: list[float], b: list[float], cfgs: list[dict], max_lr: float = math.inf) -> float:
    pairs = [(x, y) for x, y, c in zip(a, b, cfgs) if math.isfinite(x) and math.isfinite(y) and c["lr"] <= max_lr]
    return max((abs(x - y) / abs(y) for x, y in pairs), default=0.0)


def _kernel_times(k: int, repeats: int) -> tuple[float, float]:
    """ms per forward+backward of K seed MLPs (width 64, batch 32): batched matmuls, then vmap."""
    from torch.func import functional_call, grad, stack_module_state, vmap
    from torch.nn import functional as F

    models = [torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                                  torch.nn.ReLU(), torch.nn.Linear(64, 1)) for _ in range(k)]
    x, y = torch.randn(k, 32, 20), torch.randint(0, 2, (k, 32)).float()
    leaves = [(torch.stack([m[i].weight.detach().t() for m in models]).requires_grad_(),
               torch.stack([m[i].bias.detach() for m in models]).requires_grad_()) for i in (0, 2, 4)]

    def bmm_step() -> None:
        h = x
        for j, (w, b) in enumerate(leaves):
            h = torch.baddbmm(b.unsqueeze(1), h, w)
            h = torch.relu(h) if j < 2 else h
        F.binary_cross_entropy_with_logits(h.squeeze(-1), y, reduction="none").mean(1).sum().backward()

    params, buffers = stack_module_state(models)  # type: ignore[arg-type]

    def loss(p, b, xi, yi):
        return F.binary_cross_entropy_with_logits(functional_call(models[0], (p, b), (xi,)).squeeze(-1), yi)

    vgrad = vmap(grad(loss))

    def vmap_step() -> None:
        vgrad(params, buffers, x, y)

    times = []
    for step in (bmm_step, vmap_step):
        step()
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            for _ in range(50):
                step()
            runs.append((time.perf_counter() - t) / 50 * 1e3)
        times.append(statistics.median(runs))
    return times[0], times[1]


def kernels(sizes: list[int], repeats: int) -> list[str]:
    rows = ["| K | baddbmm fwd+bwd (ms) | vmap(grad) fwd+bwd (ms) | vmap / baddbmm |", "|---|---|---|---|"]
    for k in sizes:
        bmm, vm = _kernel_times(k, repeats)
        rows.append(f"| {k} | {bmm:.3f} | {vm:.3f} | {vm / bmm:.1f}× |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--variants", nargs="+", default=["2:split", "4:split", "inf:split", "2:mix", "inf:mix"],
                        help="max_pad:split|mix (mix: different batch sizes share a bucket on the gcd tick)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kernels", action="store_true")
    parser.add_argument("--same-shape", type=int, nargs="*", default=[8, 32],
                        help="also these K with the seed spec's shape for every config (the best case)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    job = _job()
    solo(job, configs(1, 0))  # warm-up: the first optimizer imports torch._dynamo
    variants = [(float(v.split(":")[0]), v.split(":")[1] == "mix", v) for v in args.variants]
    head = "| K | solo (cfg·ep/s) | " + " | ".join(f"fused {v} (cfg·ep/s, ×solo)" for *_, v in variants)
    print(head + " | final val loss max rel. diff: all / lr ≤ 1e-2 |")
    print("|---" * (3 + len(variants)) + "|")
    cases = [(k, False) for k in args.sizes] + [(k, True) for k in args.same_shape]
    for k, same_shape in cases:
        cfgs = configs(k, seed=k, same_shape=same_shape)
        timings: dict[str, list[float]] = {}
        diff = calm = 0.0
        for _ in range(args.repeats):  # interleaved, so a load spike from elsewhere hits every variant
            t = time.perf_counter()
            reference = solo(job, cfgs)
            timings.setdefault("solo", []).append(time.perf_counter() - t)
            for pad, mix, name in variants:
                t = time.perf_counter()
                got = fused(job, cfgs, pad, mix)
                timings.setdefault(name, []).append(time.perf_counter() - t)
                diff, calm = max(diff, _rel(got, reference, cfgs)), max(calm, _rel(got, reference, cfgs, 1e-2))
        rate = {name: k * EPOCHS / statistics.median(ts) for name, ts in timings.items()}
        cells = " | ".join(f"{rate[v]:.0f} ({rate[v] / rate['solo']:.1f}×)" for *_, v in variants)
        label = f"{k} same shape" if same_shape else str(k)
        print(f"| {label} | {rate['solo']:.0f} | {cells} | {diff:.1e} / {calm:.1e} |", flush=True)
    if args.kernels:
        print()
        print("\n".join(kernels([8, 32], args.repeats)))


if __name__ == "__main__":
    main()

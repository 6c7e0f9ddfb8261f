#!/usr/bin/env python
"""Packing trials onto one GPU: `gpus_per_trial: auto` (sized from a measured trial) against fixed
shares 1, 0.5 and 0.25, with float16 and bfloat16 mixed precision, on the bundled image example.

Torch only (no Ray, no autolearn import: examples/images.py is loaded by file path). A share s is
emulated the way it bites on a real cluster: 1/s trial processes train at once on the card
(torch.multiprocessing), each capped at s of the card's memory
(`torch.cuda.set_per_process_memory_fraction`), so a share too small ends in out-of-memory.
`auto` first trains one trial alone for an epoch, takes its peak memory
(`torch.cuda.max_memory_allocated`) and packs as autolearn's `training/profile.py:pack_gpu` does
(20 % margin plus 512 MiB of CUDA context per process; at most 16 per card).

Reported per precision and share: trials run at once, trials per hour (finished trials / wall time),
peak GPU memory per trial, trials that ran out of memory.

    python benchmarks/gpu_packing.py                         # on a GPU machine, a few minutes
    python benchmarks/gpu_packing.py --device cpu --quick    # smoke test anywhere (bf16 only, no caps)
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp

ROOT = Path(__file__).resolve().parent.parent
MARGIN, CONTEXT_BYTES, MAX_PER_GPU = 0.2, 512 * 2**20, 16  # as autolearn/training/profile.py


def images_module():
    spec = importlib.util.spec_from_file_location("images_example", ROOT / "examples" / "images.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["images_example"] = module
    spec.loader.exec_module(module)
    return module


def pack_gpu(peak: int, total: int) -> tuple[int, float]:
    k = max(1, min(MAX_PER_GPU, int(total // (peak * (1 + MARGIN) + CONTEXT_BYTES))))
    return k, math.floor(10_000 / k) / 10_000


def train_one(args: dict, results) -> None:
    """One trial: the example's ResNet on its images for `epochs`, under `precision`, within `share`."""
    images = images_module()
    device = torch.device(args["device"])
    if device.type != "cuda":
        torch.set_num_threads(1)  # the CPU smoke test: k processes on a few cores
    elif args["share"] < 1:
        torch.cuda.set_per_process_memory_fraction(args["share"], device)
    torch.manual_seed(args["seed"])
    data = images.build(n_per_class=args["n_per_class"], size=args["size"], n_classes=6, root=args["root"])
    loader = torch.utils.data.DataLoader(data, batch_size=args["batch"], shuffle=True,
                                         num_workers=args["workers"], persistent_workers=args["workers"] > 0,
                                         pin_memory=device.type == "cuda")
    model = images.resnet((3, args["size"], args["size"]), 6, width=args["width"], blocks=2, stages=3).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    dtype = {"16": torch.float16, "bf16": torch.bfloat16}[args["precision"]]
    scaler = torch.amp.GradScaler("cuda") if args["precision"] == "16" else None
    out = {"share": args["share"], "precision": args["precision"], "oom": False}
    start = time.perf_counter()
    try:
        for _ in range(args["epochs"]):
            for x, y in loader:
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                opt.zero_grad(set_to_none=True)
                with torch.autocast(device.type, dtype=dtype):
                    loss = torch.nn.functional.cross_entropy(model(x).float(), y)
                if scaler is None:
                    loss.backward()
                    opt.step()
                else:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
        out["loss"] = float(loss.detach())
    except torch.cuda.OutOfMemoryError:
        out["oom"] = True
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        out["peak_bytes"] = int(torch.cuda.max_memory_allocated(device))
        out["card_bytes"] = int(torch.cuda.get_device_properties(device).total_memory)
    out["seconds"] = time.perf_counter() - start
    results.put(out)


def run_packed(base: dict, share: float, k: int) -> dict:
    """k trials at once, each within `share` of the card; trials per hour from the wall time."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    start = time.perf_counter()
    procs = [ctx.Process(target=train_one, args=({**base, "share": share, "seed": i}, results)) for i in range(k)]
    for p in procs:
        p.start()
    outs = [results.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    done = [o for o in outs if not o["oom"]]
    peak = max((o.get("peak_bytes", 0) for o in outs), default=0)
    return {"share": share, "at_once": k, "wall_s": round(wall, 2),
            "trials_per_hour": round(len(done) * 3600 / wall, 1), "oom": len(outs) - len(done),
            "peak_mib": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny images and one epoch (a smoke test)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers per trial")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu_packing.json"))
    args = parser.parse_args()
    quick = args.quick
    base = {"device": args.device, "epochs": 1 if quick else args.epochs, "width": 8 if quick else args.width,
            "batch": 64, "workers": 0 if quick else args.workers, "n_per_class": 20 if quick else 500,
            "size": 16 if quick else 32}
    base["root"] = str(Path(tempfile.gettempdir()) / f"autolearn-packing-{base['n_per_class']}-{base['size']}")
    images_module().build(n_per_class=base["n_per_class"], size=base["size"], n_classes=6, root=base["root"])
    cuda = args.device.startswith("cuda")
    card = torch.cuda.get_device_name(0) if cuda else "cpu"
    rows = []
    for precision in (("16", "bf16") if cuda else ("bf16",)):
        run = {**base, "precision": precision}
        alone = run_packed({**run, "epochs": 1}, 1.0, 1)  # the measured trial `auto` sizes from
        card_bytes = torch.cuda.get_device_properties(0).total_memory if cuda else 0
        k_auto, share_auto = pack_gpu(int(alone["peak_mib"] * 2**20), card_bytes) if cuda else (1, 1.0)
        for label, share, k in [("auto", share_auto, k_auto), ("1", 1.0, 1), ("0.5", 0.5, 2), ("0.25", 0.25, 4)]:
            if not cuda and k > 2:
                continue
            row = {"precision": precision, "gpus_per_trial": label, **run_packed(run, share, k)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"card": card, "settings": base, "rows": rows}, indent=1))
    print(f"| precision | gpus_per_trial | at once | trials/hour | peak MiB per trial | oom |  ({card})")
    for r in rows:
        print(f"| {r['precision']} | {r['gpus_per_trial']} ({r['share']}) | {r['at_once']} | {r['trials_per_hour']} "
              f"| {r['peak_mib']:.0f} | {r['oom']} |")


if __name__ == "__main__":
    main()

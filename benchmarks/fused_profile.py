#!/usr/bin/env python
"""Where a sweep's time goes: phases of the driver, Ray processes, and each trial's first/last report.

Runs one seed-task sweep in this process (`autolearn.cli.main`), with the driver under cProfile
(dumped to `--profile`), the `ray::` processes counted once a second, and prints when Ray was up,
when `Tuner.fit` started, the first trial started and reported, the last report, and the end.

    python benchmarks/fused_profile.py --trials 100 --fuse 8 [--profile /tmp/f8.prof]
"""
from __future__ import annotations

import argparse
import cProfile
import glob
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]


def _ray_pids(seen: set[int], done: threading.Event, peak: list[int]) -> None:
    while not done.is_set():
        out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
        pids = {int(line.split()[0]) for line in out.splitlines() if "ray::" in line}
        seen |= pids
        peak[0] = max(peak[0], len(pids))
        done.wait(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--fuse", default="8")
    parser.add_argument("--profile", help="dump the driver's cProfile here")
    args = parser.parse_args()
    from ray.tune import Tuner

    from autolearn.cli import main as cli

    t0, marks = time.time(), {}
    fit = Tuner.fit

    def timed_fit(self):  # type: ignore[no-untyped-def]
        marks["Tuner.fit starts"] = time.time() - t0
        try:
            return fit(self)
        finally:
            marks["Tuner.fit returns"] = time.time() - t0

    Tuner.fit = timed_fit  # type: ignore[method-assign]
    seen: set[int] = set()
    peak, done = [0], threading.Event()
    threading.Thread(target=_ray_pids, args=(seen, done, peak), daemon=True).start()
    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory() as storage:
        profile.enable()
        cli(["sweep", "--quiet", "--storage", storage, "--name", "p", "--num-samples", str(args.trials),
             "--fuse", args.fuse])
        profile.disable()
        marks["end"] = time.time() - t0
        done.set()
        starts, firsts, lasts = [], [], []
        for folder in glob.glob(f"{storage}/p/train_trial_*"):
            lines = [json.loads(line) for line in Path(folder, "result.json").read_text().splitlines()]
            starts.append(lines[0]["timestamp"] - lines[0]["time_total_s"] - t0)
            firsts.append(lines[0]["timestamp"] - t0)
            lasts.append(lines[-1]["timestamp"] - t0)
    marks.update({"first trial starts": min(starts), "first report": min(firsts), "last report": max(lasts)})
    for name, at in sorted(marks.items(), key=lambda item: item[1]):
        print(f"{at:7.1f} s  {name}")
    print(f"ray:: processes: {len(seen)} seen, {peak[0]} at once")
    if args.profile:
        profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()

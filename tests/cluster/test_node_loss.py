"""Node loss: on a local autoscaling cluster (fake GPU nodes from cluster/gpu.yaml), SIGKILL the
raylet of a worker node, and the processes under it, while trials train on it. Ray Tune sees their
actors die, retries them from their last checkpoints on a node the autoscaler provides, and every
trial finishes.

Killing the raylet alone is not a lost machine: its workers live on and keep reporting to the
driver until the GCS health check declares the node dead, so a short trial just finishes there.
A lost machine takes every process with it, which is what `_lose_node` does.

It shares the session's cluster (tests/cluster/conftest.py): the GPU nodes test_local_autoscaling
made the autoscaler add are still there, so trials start at once on them.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from local_cluster import ROOT, LocalCluster, _cmdline

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
TRIALS, EPOCHS = 4, 6


def _spec(storage: Path) -> dict:
    return {
        "name": "node-loss", "storage": str(storage),
        "task": {"dataset": {"name": "synthetic_classification", "n_samples": 200, "n_features": 6}},
        # A test-only model with slow epochs: long enough to kill a node under running trials.
        "model": {"name": "autolearn.testing.faults:faulty_mlp", "fault": "slow", "seconds": 1.0,
                  "hidden_units": 8, "depth": 1},
        "train": {"epochs": EPOCHS, "batch_size": 64, "checkpoint_every": 1},
        "space": {"lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}},
        "search": {"strategy": "random", "num_samples": TRIALS, "seed": 11},
        # Half a GPU each: the head has none, so every trial runs on a worker node.
        "resources": {"cpus_per_trial": 0.5, "gpus_per_trial": 0.5},
        "run": {"max_failures": 3},
    }


def _records(trial_dir: Path) -> list[dict]:
    out = []
    file = trial_dir / "result.json"
    for line in (file.read_text().splitlines() if file.is_file() else []):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def _tree(pid: int) -> list[int]:
    """`pid` and all its descendants: a raylet's workers and agents are its children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        out.append(todo.pop())
        todo += children.get(out[-1], [])
    return out


def _lose_node(pid: int) -> None:
    """What a lost machine does to a node: its raylet and every process under it die at once."""
    for each in _tree(pid):
        try:
            os.kill(each, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _raylet_of(cluster: LocalCluster, node_id: str) -> int | None:
    return next((pid for pid in cluster.pids() if "/raylet/raylet" in _cmdline(pid)
                 and f"--node_id={node_id}" in _cmdline(pid)), None)


def _kill_a_busy_node(cluster: LocalCluster, proc: subprocess.Popen, experiment: Path,
                      limit_s: float = 400) -> tuple[str, set[str]]:
    """Wait for trials part-way through on a worker node; kill it. Returns (node, its trials)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before a node was killed:\n{proc.stdout.read()[-3000:]}")
        running: dict[str, set[str]] = {}
        for trial_dir in experiment.glob("train_trial_*"):
            records = _records(trial_dir)
            if records and 2 <= records[-1]["epoch"] < EPOCHS - 1:
                running.setdefault(records[-1]["node"], set()).add(trial_dir.name)
        for node, trials in running.items():
            pid = _raylet_of(cluster, node)
            if pid is not None:
                _lose_node(pid)
                return node, trials
        time.sleep(0.3)
    pytest.fail("no moment with trials part-way through on a worker node")


def test_trials_of_a_lost_node_are_retried_elsewhere_and_all_finish(cluster, tmp_path):
    storage, spec = tmp_path / "runs", tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_spec(storage)))
    experiment = storage / "node-loss"
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "sweep.py"), str(spec), "--address",
                             cluster.address, "--quiet"], cwd=tmp_path, env={**os.environ, **cluster.env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        node, victims = _kill_a_busy_node(cluster, proc, experiment)
        output, _ = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _raylet_of(cluster, node) is None
    assert proc.returncode == 0, output[-5000:]

    with open(experiment / "results.csv") as handle:
        rows = {r["trial_id"]: r for r in csv.DictReader(handle)}
    assert len(rows) == TRIALS
    assert all(r["status"] == "finished" and r["epochs"] == str(EPOCHS) for r in rows.values()), rows
    for name in victims:
        records = _records(experiment / name)
        epochs = [r["epoch"] for r in records]
        assert epochs.count(1) == 1, f"{name} restarted from scratch: {epochs}"  # from its checkpoint
        trace = [(r["epoch"], r["node"][-5:], r["pid"]) for r in records]
        assert records[-1]["node"] != node, f"{name} finished on the killed node ...{node[-5:]}: {trace}"
        row = next(r for t, r in rows.items() if t in name)
        assert int(row["retries"]) >= 1, row

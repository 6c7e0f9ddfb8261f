"""A sweep on a local autoscaling cluster whose node types come from cluster/gpu.yaml.

The cluster starts with the head only (0 GPUs); 8 trials asking for half a GPU each make the
autoscaler add GPU worker nodes; Ray places the trials on them and assigns GPU ids. The sweep runs
in a subprocess (`scripts/sweep.py --address`), the way a user runs it on a head node, because
this pytest process may already hold the session's own Ray instance.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from local_cluster import FAKE_HEAD_TYPE, GPU_YAML, ROOT, fake_config

pytestmark = pytest.mark.cluster
GPUS_PER_TRIAL = 0.5
TRIALS = 8
FAKE_HEAD_NODE_ID = "f" * 51 + "00000"  # the fake provider's fixed id for the head node


def sweep_spec(storage: Path) -> dict:
    return {
        "name": "fake-gpu-sweep",
        "task": {"dataset": {"name": "synthetic_classification", "n_samples": 200, "n_features": 8,
                             "n_classes": 2, "random_state": 0}},
        "model": {"name": "mlp", "hidden_units": 8, "depth": 1},
        "train": {"epochs": 2, "batch_size": 64},
        "space": {"lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}},
        "search": {"strategy": "random", "num_samples": TRIALS, "seed": 0},
        "scheduler": {"name": "fifo"},
        "metric": {"name": "val_accuracy", "mode": "max"},
        # Half a GPU (two trials share one) and half a CPU: the nodes' CPUs are capped to 2 to fit
        # this machine, so four trials fit on one fake node and eight need two nodes.
        "resources": {"cpus_per_trial": 0.5, "gpus_per_trial": GPUS_PER_TRIAL},
        "storage": str(storage),
    }


def trial_intervals(trial_dir: Path) -> tuple[float, float]:
    """When the trial trained: from its first epoch's start to its last report (Ray's result.json).

    Ray's `timestamp` is whole seconds, so each bound may be up to 1 s early; the interval is
    shrunk by that second at the start, so rounding alone never makes two trials overlap.
    """
    rows = [json.loads(line) for line in (trial_dir / "result.json").read_text().splitlines() if line.strip()]
    start = rows[0]["timestamp"] - rows[0]["time_this_iter_s"] + 1.0
    return start, float(rows[-1]["timestamp"])


def max_gpu_load(trials: list[dict]) -> dict[tuple[str, str], float]:
    """For each (node, GPU id): the largest sum of shares of trials running at the same time."""
    by_gpu: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for t in trials:
        for gpu in t["gpu_ids"].split(","):
            by_gpu[(t["node"], gpu)].append(t["interval"])
    load = {}
    for key, spans in by_gpu.items():
        events = sorted([(s, GPUS_PER_TRIAL) for s, _ in spans] + [(e, -GPUS_PER_TRIAL) for _, e in spans],
                        key=lambda ev: (ev[0], ev[1]))  # ends before starts at the same instant
        current = peak = 0.0
        for _, delta in events:
            current += delta
            peak = max(peak, current)
        load[key] = peak
    return load


def test_fake_cluster_is_built_from_gpu_yaml():
    """Only the provider and the instance details differ from cluster/gpu.yaml (plus the stated caps)."""
    source = yaml.safe_load(GPU_YAML.read_text())
    fake = fake_config(GPU_YAML, gcs_address="127.0.0.1:1")
    assert fake["provider"]["type"] == "fake_multinode"
    workers = {k: v for k, v in source["available_node_types"].items() if k != source["head_node_type"]}
    assert set(fake["available_node_types"]) == {*workers, FAKE_HEAD_TYPE}
    for name, node in workers.items():
        got = fake["available_node_types"][name]
        assert got["resources"]["GPU"] == node["resources"]["GPU"] > 1  # multi-GPU, as in the file
        assert got["min_workers"] == node["min_workers"] == 0
        assert 1 <= got["max_workers"] <= node["max_workers"]
    assert fake["available_node_types"][FAKE_HEAD_TYPE]["resources"]["GPU"] == 0


CAPACITY_PROBE = """
import json, sys, ray
from autolearn.execution.cluster import _scan_on_head, check_resources, cluster_capacity, scan_monitor
from autolearn.errors import ResourceError
ray.init(address=sys.argv[1], logging_level="ERROR")
gcs = ray.get_runtime_context().gcs_address
capacity = cluster_capacity()
try:
    check_resources(1, 16, capacity)
    too_big = ""
except ResourceError as err:
    too_big = str(err)
print(json.dumps({"local": scan_monitor(gcs), "head": _scan_on_head(gcs), "autoscaler": capacity.autoscaler,
                  "multi_node": capacity.multi_node, "fits_half_gpu": [t.name for t in capacity.launchable(
                      {"CPU": 0.5, "GPU": 0.5})], "too_big": too_big}))
"""


def test_autoscaler_node_types_are_read_from_the_head(cluster):
    """The check before a sweep sees what the autoscaler can launch, read locally or by a task on the head."""
    proc = subprocess.run([sys.executable, "-c", CAPACITY_PROBE, cluster.address], env={**os.environ, **cluster.env},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["local"] == seen["head"] and seen["head"]["config"] == cluster.config
    assert seen["autoscaler"] and seen["multi_node"]
    assert sorted(seen["fits_half_gpu"]) == ["gpu_4x_a10g", "gpu_8x_a100"]
    assert "none of the node types its autoscaler can add" in seen["too_big"] and "gpu_8x_a100" in seen["too_big"]


def test_sweep_scales_out_onto_gpu_workers(cluster, tmp_path):
    assert cluster.raylets() == 1, "the cluster must start with the head node only"
    spec = tmp_path / "spec.yaml"
    storage = tmp_path / "runs"
    spec.write_text(yaml.safe_dump(sweep_spec(storage)))
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "sweep.py"), str(spec), "--address",
                           cluster.address, "--quiet"], cwd=tmp_path, env={**os.environ, **cluster.env},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert cluster.raylets() > 1, "the autoscaler added no worker node"

    experiment = storage / "fake-gpu-sweep"
    with open(experiment / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == TRIALS and {r["status"] for r in rows} == {"finished"}
    dirs = {d.name.split("_")[3]: d for d in experiment.glob("train_trial_*")}  # 'train_trial_<exp>_<n>_...'
    trials = []
    for row in rows:
        assert row["node"] and row["node"] != FAKE_HEAD_NODE_ID, f"trial {row['trial_id']} ran on the head"
        assert row["gpu_ids"], f"trial {row['trial_id']} got no GPU id"
        trial_dir = dirs[row["trial_id"].split("_")[1]]
        checkpoints = list(trial_dir.glob("checkpoint_*/checkpoint.pt"))
        assert checkpoints, f"no checkpoint of {row['trial_id']} in the storage path"
        trials.append({**row, "interval": trial_intervals(trial_dir)})
    load = max_gpu_load(trials)
    assert max(load.values()) <= 1.0, f"a GPU was asked for more than it has: {load}"
    summary = json.loads((experiment / "summary.json").read_text())
    assert summary["best_checkpoint"].startswith(str(experiment))
    assert (experiment / "spec.yaml").is_file() and list((experiment / "tensorboard").iterdir())

    placement = defaultdict(list)
    for t in trials:
        placement[(t["node"][-5:], t["gpu_ids"])].append(t["trial_id"])
    print("\ntrials per node and GPU:")  # shown with -s; the lead quotes it
    for (node, gpu), ids in sorted(placement.items()):
        print(f"  node ...{node} GPU {gpu}: {len(ids)} trials ({', '.join(ids)})")
    print("peak share per GPU:", {f"...{n[-5:]}/GPU{g}": v for (n, g), v in sorted(load.items())})


def test_fused_groups_are_placed_like_trials_on_gpu_workers(cluster, tmp_path):
    """`search.fuse: 4` on the cluster: each group is a Ray actor holding one trial's resources (half
    a GPU), placed by Ray on the GPU worker nodes; its members report that node and GPU, and every
    member is its own trial with its own checkpoint."""
    data = sweep_spec(tmp_path / "runs")
    data["name"], data["search"]["fuse"] = "fused-gpu-sweep", 4
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(data))
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "sweep.py"), str(spec), "--address",
                           cluster.address, "--quiet"], cwd=tmp_path, env={**os.environ, **cluster.env},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    experiment = tmp_path / "runs" / "fused-gpu-sweep"
    with open(experiment / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == TRIALS and {r["status"] for r in rows} == {"finished"}
    groups = defaultdict(list)
    for row in rows:
        assert row["node"] and row["node"] != FAKE_HEAD_NODE_ID, f"member {row['trial_id']} ran on the head"
        assert row["gpu_ids"], f"member {row['trial_id']} got no GPU id"
        groups[(row["node"], row["gpu_ids"])].append(row["trial_id"])
    assert len(groups) <= TRIALS // 4 * 2, groups  # members share their group's place (a retry may move one)
    assert len(list(experiment.glob("train_trial_*/checkpoint_*/checkpoint.pt"))) >= TRIALS

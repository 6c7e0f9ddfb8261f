"""A local autoscaling Ray cluster of fake GPU nodes, built from the node types of cluster/gpu.yaml.

Ray's `fake_multinode` provider (RAY_FAKE_CLUSTER=1) makes the autoscaler "launch" a node by
starting another raylet on this machine with the node type's resources, GPUs included: Ray then
schedules, places and assigns GPU ids exactly as on real machines, only nothing has CUDA.

Only the provider and the instance details are swapped; the worker node types, their GPUs and
worker bounds come from the YAML file. Two adjustments make it fit a 2-core CI machine, and both
are explicit arguments: every node's CPU count is capped (`cpus_per_node`; a trial is a real
process here, not a slot on a 48-core machine) and each type's max_workers is capped
(`max_workers_per_type`; a fake node is a real raylet). GPU counts are kept as in the file.

The cluster gets its own temp dir and ports, and `stop()` kills exactly the processes it started
(its process group, then anything whose command line names its temp dir) — never `ray stop`,
which would also kill every other Ray on the machine.

    python tests/cluster/local_cluster.py up [DASHBOARD_PORT]   # prints the address; Ctrl-C stops it
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
GPU_YAML = ROOT / "cluster" / "gpu.yaml"
FAKE_HEAD_TYPE = "ray.head.default"  # the name the fake provider gives its head node
RAY = str(Path(sys.executable).with_name("ray"))

_SKELETON: dict[str, Any] = {
    "upscaling_speed": 1.0, "docker": {}, "auth": {}, "file_mounts": {}, "cluster_synced_files": [],
    "file_mounts_sync_continuously": False, "rsync_exclude": [], "rsync_filter": [],
    "initialization_commands": [], "setup_commands": [], "head_setup_commands": [],
    "worker_setup_commands": [], "head_start_ray_commands": [], "worker_start_ray_commands": [],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _token_available() -> bool:
    return bool(os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                or (Path.home() / ".ray" / "auth_token").is_file())


def fake_config(source: Path = GPU_YAML, *, gcs_address: str, cpus_per_node: float = 2,
                max_workers_per_type: int = 1) -> dict[str, Any]:
    """The autoscaling config of `source` with the fake provider and capped CPUs/workers."""
    config = yaml.safe_load(source.read_text())
    head_type = config["head_node_type"]
    node_types: dict[str, Any] = {}
    for name, node in config["available_node_types"].items():
        resources = dict(node.get("resources", {}))
        if "CPU" in resources:
            resources["CPU"] = min(resources["CPU"], cpus_per_node)
        if name == head_type:
            node_types[FAKE_HEAD_TYPE] = {"resources": resources, "node_config": {}, "max_workers": 0}
            continue
        node_types[name] = {"resources": resources, "node_config": {},
                            "min_workers": node.get("min_workers", 0),
                            "max_workers": min(node.get("max_workers", config["max_workers"]),
                                               max_workers_per_type)}
    workers = sum(n["max_workers"] for k, n in node_types.items() if k != FAKE_HEAD_TYPE)
    return {
        **_SKELETON,
        "cluster_name": config["cluster_name"],
        "max_workers": min(config["max_workers"], workers),
        "idle_timeout_minutes": config.get("idle_timeout_minutes", 5),
        "provider": {"type": "fake_multinode", "use_node_id_as_ip": True, "disable_node_updaters": True,
                     "disable_launch_config_check": True, "gcs_address": gcs_address},
        "available_node_types": node_types,
        "head_node_type": FAKE_HEAD_TYPE,
    }


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class LocalCluster:
    """`ray start --head --autoscaling-config` in its own process group, temp dir and ports."""

    def __init__(self, source: Path = GPU_YAML, dashboard_port: int | None = None, **caps: Any) -> None:
        from ray._private.services import get_node_ip_address

        self.temp_dir = tempfile.mkdtemp(prefix="al-fc-", dir="/tmp")  # short: socket paths are limited
        self.port = free_port()
        self.address = f"{get_node_ip_address()}:{self.port}"
        self.config = fake_config(source, gcs_address=self.address, **caps)
        self.config_path = Path(self.temp_dir) / "autoscaling.json"
        self.config_path.write_text(json.dumps(self.config, indent=2))
        self.pgid: int | None = None
        self.dashboard_port = dashboard_port  # None: no dashboard (tests); a port: for `ray job submit`
        # Ray turns token auth on for `ray start` when a token exists; a driver given an explicit
        # address turns it on only when told: both get the same RAY_AUTH_MODE.
        self.env = {"RAY_AUTH_MODE": "token" if _token_available() else "disabled"}

    def start(self) -> str:
        head = self.config["available_node_types"][FAKE_HEAD_TYPE]["resources"]
        cmd = [RAY, "start", "--head", f"--port={self.port}", f"--temp-dir={self.temp_dir}",
               f"--autoscaling-config={self.config_path}", f"--num-cpus={head.get('CPU', 0):g}",
               f"--num-gpus={head.get('GPU', 0):g}",
               f"--include-dashboard={str(self.dashboard_port is not None).lower()}",
               "--dashboard-host=127.0.0.1", f"--dashboard-port={self.dashboard_port or free_port()}",
               f"--ray-client-server-port={free_port()}", f"--dashboard-agent-listen-port={free_port()}",
               f"--dashboard-agent-grpc-port={free_port()}", f"--metrics-export-port={free_port()}",
               "--disable-usage-stats"]
        env = {**os.environ, **self.env, "RAY_FAKE_CLUSTER": "1", "AUTOSCALER_UPDATE_INTERVAL_S": "1"}
        proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        self.pgid = proc.pid  # a new session: its id is the leader's pid; the daemons inherit it
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            self.stop()
            raise RuntimeError(f"ray start failed ({proc.returncode}):\n{out}")
        return self.address

    def raylets(self) -> int:
        """How many nodes (one raylet each) this cluster runs now."""
        return sum(1 for pid in self.pids() if "/raylet/raylet" in _cmdline(pid))

    def pids(self) -> list[int]:
        """Every live process of this cluster: its process group, or its temp dir on the command line."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = _cmdline(int(entry.name))
                pgid = os.getpgid(int(entry.name))
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z" and (pgid == self.pgid or self.temp_dir in cmdline):
                found.append(int(entry.name))
        return found

    def stop(self, grace_s: float = 10.0) -> list[int]:
        """SIGTERM, wait, SIGKILL what is left; returns the pids still alive (should be none)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace_s
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.2)
            if not self.pids():
                break
        left = self.pids()
        if not left:
            shutil.rmtree(self.temp_dir, ignore_errors=True)  # logs included: nothing runs from it now
        return left

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


if __name__ == "__main__" and sys.argv[1:2] == ["up"]:
    cluster = LocalCluster(dashboard_port=int(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(cluster.start(), flush=True)
    print(f"temp dir {cluster.temp_dir}; Ctrl-C (or SIGTERM) stops it", flush=True)

    def _exit(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    for sig in (signal.SIGINT, signal.SIGTERM):  # a background job may have inherited SIGINT ignored
        signal.signal(sig, _exit)
    try:
        signal.pause()
    finally:
        print("stopped; left:", cluster.stop(), flush=True)

"""What the Ray cluster can run: the nodes it has now and the node types its autoscaler can add.

A trial's resources (`cpus_per_trial`, `gpus_per_trial`) must fit on one node. If no node has
them and no node type the autoscaler may launch has them, Ray Tune would wait forever; this
module says so before the sweep starts. Ray keeps no record of the launchable node types in the
GCS with its default (v1) autoscaler, so they are read where the autoscaler reads them: the
`--autoscaling-config` file of the cluster's monitor process on the head node (found by its
`--gcs-address`), through a zero-CPU task on the head when the driver runs elsewhere. A monitor
started without that file is Ray's read-only one (`ray.init()`, `ray start` by hand): no
autoscaler. KubeRay's autoscaler publishes its node groups in the GCS, which is read first.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autolearn.errors import ResourceError
from autolearn.internals import (
    HEAD_NODE_RESOURCE,
    MONITOR_CONFIG_OPTION,
    MONITOR_GCS_OPTION,
    MONITOR_SCRIPTS,
    autoscaling_status,
    gcs_cluster_config,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeType:
    """A node type the autoscaler may launch; `resources` empty when the config leaves them out."""

    name: str
    resources: Mapping[str, float]
    max_workers: int


@dataclass(frozen=True)
class Capacity:
    nodes: Sequence[Mapping[str, float]]               # the total resources of each live node
    node_types: list[NodeType] = field(default_factory=list)
    autoscaler: bool = False                           # nodes can be added (types known or not)

    @property
    def multi_node(self) -> bool:
        """More than one machine now, or possibly later (an unreadable autoscaler counts as able)."""
        return (len(self.nodes) > 1 or any(t.max_workers > 0 for t in self.node_types)
                or (self.autoscaler and not self.node_types))

    def launchable(self, bundle: Mapping[str, float]) -> list[NodeType]:
        """Node types that fit `bundle`, or may (resources undeclared); max_workers 0 never launches."""
        return [t for t in self.node_types if t.max_workers > 0 and (not t.resources or fits(t.resources, bundle))]


def fits(resources: Mapping[str, float], bundle: Mapping[str, float]) -> bool:
    return all(resources.get(key, 0) >= need for key, need in bundle.items() if need > 0)


def node_types_of(config: Mapping[str, Any]) -> list[NodeType]:
    """The node types of a cluster-launcher config, with how many of each may be added.

    The head's type adds none unless the config says so (Ray's local provider uses one type for
    the head and its `worker_ips`).
    """
    head = config.get("head_node_type")
    return [NodeType(name, {k: float(v) for k, v in (spec.get("resources") or {}).items()},
                     int(spec.get("max_workers", 0 if name == head else config.get("max_workers", 0))))
            for name, spec in (config.get("available_node_types") or {}).items()]


def scan_monitor(gcs_address: str) -> dict[str, Any] | None:
    """On this machine: {"config": the monitor's autoscaling config or None} or None (no monitor here)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if not any(a.endswith(MONITOR_SCRIPTS) for a in args[:3]) or f"{MONITOR_GCS_OPTION}={gcs_address}" not in args:
            continue
        path = next((a.split("=", 1)[1] for a in args if a.startswith(f"{MONITOR_CONFIG_OPTION}=")), None)
        if path is None:
            return {"config": None}
        import yaml

        return {"config": yaml.safe_load(Path(os.path.expanduser(path)).read_text())}
    return None


def _scan_on_head(gcs_address: str, timeout_s: float = 60.0) -> dict[str, Any] | None:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    head = next((n["NodeID"] for n in ray.nodes() if n["Alive"] and HEAD_NODE_RESOURCE in n["Resources"]), None)
    if head is None:
        return None
    task = ray.remote(num_cpus=0, max_retries=0)(scan_monitor).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(head, soft=False))
    return ray.get(task.remote(gcs_address), timeout=timeout_s)


def _gcs_node_groups() -> list[NodeType] | None:
    """Node groups the (v2 / KubeRay) autoscaler published in the GCS, or None."""
    try:
        config = gcs_cluster_config()
    except Exception:
        log.debug("no cluster config in the GCS", exc_info=True)
        return None
    return node_groups_of(config)


def node_groups_of(config: Any) -> list[NodeType] | None:
    """The node types of the GCS's `ClusterConfig` protobuf (max_count -1: no limit), or None."""
    if config is None or not config.node_group_configs:
        return None
    return [NodeType(g.name, dict(g.resources), g.max_count if g.max_count >= 0 else 10**9)
            for g in config.node_group_configs]


def _kv_says_autoscaler() -> bool:
    """The v1 monitor's status names node types; the read-only monitor names them `node_<id>`."""
    report = autoscaling_status().get("autoscaler_report") or {}
    mapping = report.get("node_type_mapping") or {}
    return any(kind != f"node_{node}" for node, kind in mapping.items())


def cluster_capacity() -> Capacity:
    """The live nodes and what the autoscaler may add (call after `ray.init`)."""
    import ray

    nodes = [dict(n["Resources"]) for n in ray.nodes() if n["Alive"]]
    groups = _gcs_node_groups()
    if groups is not None:
        return Capacity(nodes, groups, autoscaler=True)
    gcs_address = ray.get_runtime_context().gcs_address
    found = scan_monitor(gcs_address)
    if found is None:
        try:
            found = _scan_on_head(gcs_address)
        except Exception:
            log.debug("could not read the autoscaler config on the head node", exc_info=True)
    if found is not None:
        config = found["config"]
        return Capacity(nodes, node_types_of(config) if config else [], autoscaler=config is not None)
    return Capacity(nodes, [], autoscaler=_kv_says_autoscaler())


def _describe(resources: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={resources[k]:g}" for k in ("CPU", "GPU") if k in resources) or "no CPU/GPU"


def check_resources(cpus_per_trial: float, gpus_per_trial: float, capacity: Capacity) -> None:
    """Raise `ResourceError` when no node, present or launchable, can ever hold one trial."""
    bundle = {"CPU": cpus_per_trial, "GPU": gpus_per_trial}
    if any(fits(node, bundle) for node in capacity.nodes):
        return
    types = capacity.launchable(bundle)
    if types:
        log.info("no node has %s now; the autoscaler can add: %s", _describe(bundle),
                 ", ".join(t.name for t in types))
        return
    if capacity.autoscaler and not capacity.node_types:
        log.warning("no node has %s now and the autoscaler's node types could not be read: "
                    "trials wait until it adds a node that has them", _describe(bundle))
        return
    nodes = "; ".join(_describe(n) for n in capacity.nodes) or "none"
    if capacity.autoscaler:
        kinds = "; ".join(f"{t.name}: {_describe(t.resources)}, max_workers {t.max_workers}"
                          for t in capacity.node_types)
        scaling = f"none of the node types its autoscaler can add has it either ({kinds})"
    else:
        scaling = "there is no autoscaler that could add such a node"
    gpu_short = gpus_per_trial > 0 and not any(
        fits(r, {"GPU": gpus_per_trial}) for r in [*capacity.nodes, *(t.resources for t in capacity.node_types)])
    hint = ("set resources.gpus_per_trial: 0, or join a cluster with GPU nodes (--address; see cluster/gpu.yaml)"
            if gpu_short else "lower resources.cpus_per_trial")
    raise ResourceError(f"resources: a trial needs {_describe(bundle)} on one node, but no node of this Ray "
                        f"cluster has that (nodes: {nodes}) and {scaling}; {hint}")

"""Every file in cluster/ is valid before anyone pays for a machine: Ray's own schema, offline."""
from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import pytest
import ray
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
LAUNCHER_FILES = ["gpu.yaml", "local.yaml"]


def launcher_config(name: str) -> dict:
    """What `ray up` validates: the file merged with the provider's defaults (no cloud calls)."""
    return prepare_config(yaml.safe_load((CLUSTER / name).read_text()))


@pytest.mark.parametrize("name", LAUNCHER_FILES)
def test_launcher_files_pass_rays_cluster_schema(name):
    validate_config(launcher_config(name))


@pytest.mark.parametrize("name", LAUNCHER_FILES)
def test_the_schema_check_can_fail(name):
    config = launcher_config(name)
    broken = copy.deepcopy(config)
    broken["max_workrs"] = 2  # a typo Ray rejects (no extra top-level keys)
    with pytest.raises(jsonschema.ValidationError):
        validate_config(broken)


def test_gpu_yaml_has_a_cpu_head_and_multi_gpu_worker_types_that_start_at_zero():
    config = launcher_config("gpu.yaml")
    assert config["provider"]["type"] == "aws"
    types = config["available_node_types"]
    head = types[config["head_node_type"]]
    assert head["resources"].get("GPU", 0) == 0
    workers = {k: v for k, v in types.items() if k != config["head_node_type"]}
    assert len([w for w in workers.values() if w["resources"]["GPU"] >= 2]) >= 2
    for spec in workers.values():
        assert spec["min_workers"] == 0 and 0 < spec["max_workers"] <= config["max_workers"] * 2
        assert spec["resources"]["CPU"] > 0
    assert config["idle_timeout_minutes"] > 0


@pytest.mark.parametrize("name", LAUNCHER_FILES)
def test_launcher_files_install_the_project_pinned_and_keep_ray_private(name):
    config = launcher_config(name)
    assert config["file_mounts"]["~/autolearn"] == "."
    assert any("-c ~/autolearn/constraints.txt" in c for c in config["setup_commands"])
    starts = " ".join(config["head_start_ray_commands"] + config["worker_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in starts and "0.0.0.0" not in starts
    assert starts.count("RAY_AUTH_MODE=token") == 2
    assert "~/.ray/auth_token" in config["file_mounts"]
    # nothing but SSH is opened to the outside (Ray adds SSH and intra-cluster rules itself)
    assert not config["provider"].get("security_group", {}).get("IpPermissions")


def test_docker_image_matches_the_pinned_ray():
    image = launcher_config("gpu.yaml")["docker"]["image"]
    assert f"ray:{ray.__version__}-" in image


def test_kuberay_manifest_has_an_autoscaled_gpu_worker_group():
    manifest = yaml.safe_load((CLUSTER / "kuberay.yaml").read_text())
    assert manifest["apiVersion"] == "ray.io/v1" and manifest["kind"] == "RayCluster"
    spec = manifest["spec"]
    assert spec["rayVersion"] == ray.__version__ and spec["enableInTreeAutoscaling"] is True
    assert spec["headGroupSpec"]["rayStartParams"]["num-gpus"] == "0"
    gpu_groups = [g for g in spec["workerGroupSpecs"] if int(g["rayStartParams"].get("num-gpus", 0)) > 0]
    assert gpu_groups
    for group in gpu_groups:
        assert group["minReplicas"] == 0 < group["maxReplicas"]
        (container,) = group["template"]["spec"]["containers"]
        limits = container["resources"]["limits"]
        assert int(limits["nvidia.com/gpu"]) == int(group["rayStartParams"]["num-gpus"])
        assert {"name": "RAY_AUTH_MODE", "value": "token"} in container["env"]
    assert spec["headGroupSpec"]["serviceType"] == "ClusterIP"


def test_sweep_script_runs_as_the_copy_ray_submit_makes(tmp_path):
    """`ray submit` copies scripts/sweep.py to the head's home, next to the synced ~/autolearn
    repository: that folder must not shadow the installed package."""
    import shutil
    import subprocess
    import sys

    shutil.copy(CLUSTER.parent / "scripts" / "sweep.py", tmp_path / "sweep.py")
    shutil.copytree(CLUSTER.parent / "cluster", tmp_path / "autolearn" / "cluster")  # a repo-like folder
    proc = subprocess.run([sys.executable, "sweep.py", "--print-spec"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert yaml.safe_load(proc.stdout)["search"]["strategy"]

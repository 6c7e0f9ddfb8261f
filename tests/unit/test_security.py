"""Security rules, checked on the source so a later change cannot quietly break them: YAML read
only with safe_load, checkpoints loaded with weights_only=True, no dashboard on a public address,
Ray's token authentication never turned off, no password from a spec written anywhere."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from autolearn import cli

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for d in ("autolearn", "scripts", "examples", "benchmarks") if (ROOT / d).is_dir()
                 for p in (ROOT / d).rglob("*.py"))
CONFIGS = sorted(p for p in (ROOT / "cluster").rglob("*") if p.is_file()) if (ROOT / "cluster").is_dir() else []


def _calls(name: str):
    """(file, call) for every call of `<something>.name(...)` in the project's Python sources."""
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
                yield path, node


def _kwarg(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_yaml_is_only_read_with_safe_load():
    for unsafe in ("load", "full_load", "unsafe_load", "load_all", "unsafe_load_all"):
        found = [f"{p.relative_to(ROOT)}:{c.lineno}" for p, c in _calls(unsafe)
                 if isinstance(c.func.value, ast.Name) and c.func.value.id == "yaml"]
        assert not found, f"yaml.{unsafe} in {found}; use yaml.safe_load"


def test_checkpoints_are_loaded_with_weights_only():
    calls = [(p, c) for p, c in _calls("load") if isinstance(c.func.value, ast.Name) and c.func.value.id == "torch"]
    assert calls, "expected the trainable's torch.load"
    for path, call in calls:
        flag = _kwarg(call, "weights_only")
        assert isinstance(flag, ast.Constant) and flag.value is True, f"{path.relative_to(ROOT)}:{call.lineno}"


def test_a_local_ray_never_serves_its_dashboard_beyond_localhost():
    for path, call in _calls("init"):
        if not (isinstance(call.func.value, ast.Name) and call.func.value.id == "ray"):
            continue
        host = _kwarg(call, "dashboard_host")
        assert host is None or (isinstance(host, ast.Constant) and host.value in ("127.0.0.1", "localhost")), \
            f"{path.relative_to(ROOT)}:{call.lineno} binds the dashboard to {ast.unparse(host)}"
    for path in CONFIGS:
        for host in re.findall(r"--dashboard-host[= ](\S+)", path.read_text()):
            assert host in ("127.0.0.1", "localhost"), f"{path}: --dashboard-host {host}"


def test_token_authentication_is_never_turned_off():
    for path in [*SOURCES, *CONFIGS]:
        text = path.read_text(errors="replace")
        # `RAY_AUTH_MODE=token`, `"RAY_AUTH_MODE": "token"`, `{name: RAY_AUTH_MODE, value: token}`
        for mode in re.findall(r"RAY_AUTH_MODE[\s\"'=:,]*(?:value[\s\"'=:,]*)?(\w+)", text):
            assert mode == "token", f"{path.relative_to(ROOT)} sets RAY_AUTH_MODE={mode}"
        assert "--disable-auth" not in text and "auth_mode=\"disabled\"" not in text, path


def test_a_password_in_the_storage_uri_is_refused_without_being_echoed(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: s\nstorage: s3://AKIAEXAMPLE:sekr3t@bucket/runs\n")
    assert cli.main(["sweep", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: storage: the URI holds a password") and "sekr3t" not in err


@pytest.mark.parametrize("name", ["spec.yaml", "summary.json", "results.csv"])
def test_saved_files_hold_no_environment_secrets(tmp_path, monkeypatch, name):
    """What a sweep writes comes from the spec and the metrics, never from the environment."""
    from autolearn.config.spec import Experiment
    from autolearn.execution.runner import _save_spec
    from autolearn.results import SweepResult, TrialRow

    secret = "AWS_SECRET_sekr3t-value"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    exp = Experiment(name="s", storage=str(tmp_path))
    _save_spec(exp, tmp_path)
    row = TrialRow(trial_id="t", status="finished", epochs=1, config={}, metrics={"val_accuracy": 1.0},
                   best_score=1.0, best_epoch=1)
    SweepResult(name="s", experiment_dir=str(tmp_path), metric="val_accuracy", mode="max", space_keys=[],
                trials=[row], wall_time_s=0.0, best_trial_id="t").save()
    assert secret not in (tmp_path / name).read_text()

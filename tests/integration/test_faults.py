"""Driver crash: SIGKILL a real sweep (a subprocess with its own local Ray), resume it, and check
nothing was lost or repeated.

The killed driver leaves its Ray processes behind (as a real crash would). Each run gets its own
`RAY_TMPDIR`, and the test ends exactly the processes whose environment carries it: never
`ray stop`, which would take down every other Ray on the machine.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TRIALS, EPOCHS = 6, 6

pytestmark = pytest.mark.slow


def _spec(storage: Path, strategy: str = "random") -> dict:
    # A test-only model whose epochs are slow, so trials are caught mid-run; the kill comes from polling.
    return {
        "name": "crash", "storage": str(storage),
        "task": {"dataset": {"name": "synthetic_classification", "n_samples": 200, "n_features": 6}},
        "model": {"name": "autolearn.testing.faults:faulty_mlp", "fault": "slow", "seconds": 0.5,
                  "hidden_units": 8, "depth": 1},
        "train": {"epochs": EPOCHS, "batch_size": 64, "checkpoint_every": 1},
        "space": {"lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
                  "hidden_units": {"type": "int", "low": 4, "high": 32}},
        "search": {"strategy": strategy, "num_samples": TRIALS, "seed": 7},
        "resources": {"cpus_per_trial": 1},
    }


def _epochs(trial_dir: Path) -> list[int]:
    file = trial_dir / "result.json"
    if not file.is_file():
        return []
    out = []
    for line in file.read_text().splitlines():
        try:
            out.append(json.loads(line)["epoch"])
        except (ValueError, KeyError):
            pass  # a line being written right now
    return out


def _trials(experiment: Path) -> dict[str, list[int]]:
    return {p.name: _epochs(p) for p in experiment.glob("train_trial_*") if p.is_dir()}


def _ray_pids(tmpdir: str) -> list[int]:
    """Processes started under this run's RAY_TMPDIR (the driver's Ray: gcs, raylet, workers...)."""
    tag = f"RAY_TMPDIR={tmpdir}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if tag in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _assert_dashboard_on_localhost(tmpdir: str) -> None:
    """The Ray autolearn started serves no dashboard, or only on 127.0.0.1 (never 0.0.0.0)."""
    for pid in _ray_pids(tmpdir):
        try:
            args = (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        hosts = [a.split("=", 1)[1] for a in args if a.startswith("--host=")]
        if any("dashboard" in a for a in args[:3]):
            assert hosts in ([], ["127.0.0.1"]), args


def _kill_ray(tmpdir: str) -> None:
    for _ in range(20):
        pids = _ray_pids(tmpdir)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)


def _sweep(args: list[str], tmpdir: str, quiet: bool = True, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "RAY_TMPDIR": tmpdir, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    return subprocess.Popen([sys.executable, str(ROOT / "scripts" / "sweep.py"), *args, *["--quiet"] * quiet],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **kwargs)


def _wait_for_mid_sweep(proc: subprocess.Popen, experiment: Path, limit_s: float = 240) -> dict[str, list[int]]:
    """Poll until at least one trial finished and another is part-way (with a checkpoint)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before it could be killed:\n{proc.stdout.read()}")
        trials = _trials(experiment)
        done = [t for t, e in trials.items() if e and e[-1] == EPOCHS]
        running = [t for t, e in trials.items() if e and e[-1] < EPOCHS
                   and any((experiment / t).glob("checkpoint_*"))]
        if done and running:
            return trials
        time.sleep(0.2)
    pytest.fail("no moment with finished and running trials")


@pytest.fixture
def tmpdir_for_ray():
    """This test's own RAY_TMPDIR (short: Ray's socket paths have a length limit); cleaned after."""
    tmpdir = tempfile.mkdtemp(prefix="alr", dir="/tmp")
    yield tmpdir
    _kill_ray(tmpdir)
    shutil.rmtree(tmpdir, ignore_errors=True)


# gp: a model-based searcher's state (its observations and pending points) must survive the crash
# too, or the resumed sweep would repeat or lose suggestions.
@pytest.mark.parametrize("strategy", ["random", "gp"])
def test_driver_killed_mid_sweep_resumes_without_losing_or_repeating_trials(tmp_path, tmpdir_for_ray, strategy):
    storage = tmp_path / "runs"
    spec = tmp_path / "crash.yaml"
    spec.write_text(yaml.safe_dump(_spec(storage, strategy)))
    experiment = storage / "crash"
    tmpdir = tmpdir_for_ray
    proc = _sweep([str(spec)], tmpdir, start_new_session=True)
    try:
        _wait_for_mid_sweep(proc, experiment)
        _assert_dashboard_on_localhost(tmpdir)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    finally:
        _kill_ray(tmpdir)
    before = _trials(experiment)  # what had reached disk when the driver died
    finished_before = {t: e for t, e in before.items() if e and e[-1] == EPOCHS}
    partial_before = {t: e for t, e in before.items() if e and e[-1] < EPOCHS}
    assert finished_before and partial_before
    results_before = {t: (experiment / t / "result.json").read_text() for t in finished_before}

    resumed = _sweep(["--resume", str(experiment)], tmpdir, quiet=False)  # with live progress
    try:
        output, _ = resumed.communicate(timeout=400)
    finally:
        _kill_ray(tmpdir)
    assert resumed.returncode == 0, output

    with open(experiment / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == TRIALS
    assert all(r["status"] == "finished" and r["epochs"] == str(EPOCHS) for r in rows), rows
    configs = [(r["lr"], r["hidden_units"]) for r in rows]
    assert len(set(configs)) == TRIALS, "a config was evaluated twice"
    for trial, text in results_before.items():  # finished trials are kept as they were
        assert (experiment / trial / "result.json").read_text() == text
    for trial in partial_before:  # running trials went on from their checkpoint
        after = _epochs(experiment / trial)
        assert after[-1] == EPOCHS
        assert after.count(1) == 1, f"{trial} restarted at epoch 1: {after}"
        assert set(range(1, EPOCHS + 1)) <= set(after)
    assert len(list(experiment.glob("train_trial_*"))) == TRIALS

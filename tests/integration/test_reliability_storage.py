"""Storage faults with real processes: the lock of URI storage between drivers racing for it
(file:// URIs here; the same code serves s3:// and gs://), a lock left by a killed driver, CLI
starts and resumes of an experiment in use, and a URI sweep's TensorBoard runs surviving a
driver SIGKILL."""
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
from test_faults import EPOCHS, _kill_ray, _spec, _sweep, _wait_for_mid_sweep, tmpdir_for_ray

from autolearn.execution.lock import LOCK_FILE
from autolearn.inspection.tb_upload import UPLOAD_EVERY_S

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["tmpdir_for_ray"]  # the fixture, imported for this module's tests
HOLDER = """
import pathlib, sys, time
from autolearn.errors import ConfigError
from autolearn.execution.uri_lock import uri_lock
go = pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
try:
    with uri_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(float(sys.argv[3]))
except ConfigError as err:
    print(err, flush=True)
    sys.exit(2)
"""


def _holder(uri: str, go: Path, hold_s: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", HOLDER, uri, str(go), str(hold_s)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_drivers_racing_for_a_uri_lock_leave_exactly_one_holder(tmp_path):
    uri, go = (tmp_path / "bucket" / "exp").as_uri(), tmp_path / "go"
    procs = [_holder(uri, go, 3.0) for _ in range(4)]
    go.write_text("go")  # all four read, write and read back at once
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2, 2, 2], outputs
    refused = [o.strip() for o, p in zip(outputs, procs) if p.returncode == 2]
    assert all(o.startswith("name: the experiment 'exp' is in use by process") and "\n" not in o for o in refused)
    assert not (tmp_path / "bucket" / "exp" / LOCK_FILE).exists()  # the holder removed it


def test_the_lock_of_a_killed_driver_is_taken_over(tmp_path):
    uri, go = (tmp_path / "bucket" / "exp").as_uri(), tmp_path / "go"
    go.write_text("go")
    first = _holder(uri, go, 600.0)
    assert first.stdout.readline().strip() == "held"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    first.stdout.close()
    stale = json.loads((tmp_path / "bucket" / "exp" / LOCK_FILE).read_text())
    assert stale["pid"] == first.pid  # left behind, as by a crash
    second = _holder(uri, go, 0.1)
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0 and "held" in output and "taking over the lock" in output, output


@pytest.mark.slow
def test_a_cli_start_or_resume_of_a_uri_experiment_in_use_is_refused_before_ray_starts(tmp_path, seed_dict):
    """Another driver holds the experiment's URI lock: starting the same name and resuming it
    (given as the file:// URI or as its folder) are each refused in one line, exit code 2."""
    storage = (tmp_path / "bucket" / "runs").as_uri()
    experiment = f"{storage}/busy"
    spec = {**seed_dict, "name": "busy", "storage": storage}
    (tmp_path / "busy.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "bucket" / "runs" / "busy").mkdir(parents=True)
    (tmp_path / "bucket" / "runs" / "busy" / "spec.yaml").write_text(yaml.safe_dump(spec))
    go = tmp_path / "go"
    go.write_text("go")
    holder = _holder(experiment, go, 600.0)
    try:
        assert holder.stdout.readline().strip() == "held"
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        for args, message in [([str(tmp_path / "busy.yaml")], "already exists; pass --resume"),
                              (["--resume", experiment], "is in use by process"),
                              (["--resume", str(tmp_path / "bucket" / "runs" / "busy")], "is in use by process")]:
            cli = subprocess.run([sys.executable, str(ROOT / "scripts" / "sweep.py"), *args, "--quiet"], env=env,
                                 cwd=ROOT, capture_output=True, text=True, timeout=120)
            lines = (cli.stdout + cli.stderr).strip().splitlines()
            assert cli.returncode == 2 and len(lines) == 1, lines
            assert lines[0].startswith("error: name: the experiment") and message in lines[0], lines
    finally:
        holder.kill()
        holder.communicate(timeout=30)


def _epochs_logged(run: Path) -> int:
    """The `epochs` scalar TensorBoard reads from a run (written when the trial ended), or 0."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run))
    events.Reload()
    if "epochs" not in events.Tags()["scalars"]:
        return 0
    return int(events.Scalars("epochs")[-1].value)


@pytest.mark.slow
def test_a_killed_uri_sweep_leaves_its_finished_trials_tensorboard_runs_at_the_uri(tmp_path, tmpdir_for_ray):
    """Before: the runs sat in the driver's staging folder until the sweep ended, and a SIGKILL lost all.
    Now the first finished trial's run is uploaded when it ends (later ones at most UPLOAD_EVERY_S apart)."""
    storage = tmp_path / "bucket" / "runs"
    spec = {**_spec(storage), "storage": storage.as_uri()}
    (tmp_path / "crash.yaml").write_text(yaml.safe_dump(spec))
    experiment, board = storage / "crash", storage / "crash" / "tensorboard"

    def uploaded() -> set[str]:  # short trial ids of the complete runs at the URI
        runs = [p for p in board.iterdir() if p.is_dir()] if board.is_dir() else []
        return {p.name.split("_")[0] for p in runs if _epochs_logged(p) == EPOCHS}

    proc = _sweep([str(tmp_path / "crash.yaml")], tmpdir_for_ray, start_new_session=True)
    try:
        _wait_for_mid_sweep(proc, experiment)
        deadline = time.monotonic() + UPLOAD_EVERY_S + 60
        while not (before := uploaded()):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    finally:
        _kill_ray(tmpdir_for_ray)
    assert before <= uploaded()  # still there, and TensorBoard reads them, after the driver died
    staging = list((Path(tempfile.gettempdir()) / "autolearn-staging").glob(f"crash-*-{proc.pid}"))
    assert staging  # killed before the end: the final publish never ran, the uploads put them there
    shutil.rmtree(staging[0])


def _private_mounts() -> list[str] | None:
    """How to run a command in its own mount namespace here (root: `unshare -m`; a user: also map
    root in a user namespace), or None when this machine allows neither."""
    command = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    try:
        probe = subprocess.run([*command, "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return command if probe.returncode == 0 else None


@pytest.mark.slow
def test_a_disk_that_fills_mid_sweep_stops_it_cleanly_and_resume_completes_once_space_is_back(
        tmp_path, tmpdir_for_ray):
    """A real full disk: the storage is a 64 MB tmpfs in a private mount namespace, filled to the
    last byte once a trial has finished."""
    unshare = _private_mounts()
    if unshare is None:
        pytest.skip("cannot mount a size-limited tmpfs here (needs root or user namespaces)")
    out = tmp_path / "out"
    out.mkdir()
    try:
        driver = subprocess.run([*unshare, sys.executable, str(Path(__file__).parent / "disk_full_driver.py"),
                                 str(tmp_path / "work"), str(out), tmpdir_for_ray], cwd=ROOT, text=True,
                                capture_output=True, timeout=900)
    finally:
        _kill_ray(tmpdir_for_ray)
    assert driver.returncode == 0, driver.stdout + driver.stderr
    run = json.loads((out / "run.json").read_text())
    last = run["first_output"].strip().splitlines()[-1]
    assert run["first_rc"] == 1 and last.startswith("error: the storage of ") and " is full (" in last, last
    assert "--resume" in last
    summary = json.loads((out / "full" / "summary.json").read_text())
    assert summary["complete"] is False and summary["interrupted_by"] == "storage full"
    with open(out / "full" / "results.csv") as handle:
        status = {row["trial_id"]: row["status"] for row in csv.DictReader(handle)}
    kept = {"_".join(name.split("_")[2:4]) for name in run["finished_before"]}
    assert kept and all(status[t] == "finished" for t in kept), status  # nothing finished was lost
    assert run["resume_rc"] == 0, run["resume_output"]
    with open(out / "resumed" / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len({r["trial_id"] for r in rows}) == len(rows) == 6 and all(r["status"] == "finished" for r in rows)
    assert not (out / "resumed" / ".autolearn-reserve").exists()

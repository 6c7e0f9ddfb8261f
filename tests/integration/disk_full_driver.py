"""Run inside a private mount namespace (`unshare -m`) by test_reliability_storage.py: a CLI sweep
whose storage is a small tmpfs, filled up mid-sweep; then the space comes back and `--resume`
runs. Writes what happened (exit codes, output) and copies of the experiment folder to OUT.

    python disk_full_driver.py WORK OUT RAY_TMPDIR
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from test_faults import EPOCHS, ROOT, _spec, _trials

work, out, ray_tmpdir = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
disk = work / "disk"
disk.mkdir(parents=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], check=True)
(work / "crash.yaml").write_text(yaml.safe_dump(_spec(disk / "runs")))
experiment = disk / "runs" / "crash"
env = {**os.environ, "RAY_TMPDIR": ray_tmpdir, "PYTHONUNBUFFERED": "1"}
env.pop("RAY_ADDRESS", None)
cli = [sys.executable, str(ROOT / "scripts" / "sweep.py"), "--quiet"]
first = subprocess.Popen([*cli, str(work / "crash.yaml")], env=env, cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
deadline = time.monotonic() + 300
while not any(e and e[-1] == EPOCHS for e in _trials(experiment).values()):  # one trial finished
    if first.poll() is not None or time.monotonic() > deadline:
        break
    time.sleep(0.2)
finished_before = sorted(name for name, e in _trials(experiment).items() if e and e[-1] == EPOCHS)
filler = disk / "filler"
with open(filler, "wb") as handle:  # the disk fills up
    try:
        while True:
            handle.write(b"\0" * 2**20)
            handle.flush()
    except OSError:
        pass
first_output, _ = first.communicate(timeout=400)
shutil.copytree(experiment, out / "full")
filler.unlink()  # space is back
resumed = subprocess.run([*cli, "--resume", str(experiment)], env=env, cwd=ROOT, text=True, timeout=600,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
shutil.copytree(experiment, out / "resumed")
(out / "run.json").write_text(json.dumps({
    "finished_before": finished_before, "first_rc": first.returncode, "first_output": first_output,
    "resume_rc": resumed.returncode, "resume_output": resumed.stdout}))

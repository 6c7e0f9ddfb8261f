"""A fused sweep (trained in the driver's process) whose driver is SIGKILLed resumes per member: nothing
lost, nothing repeated.

The harness (a sweep subprocess with its own RAY_TMPDIR, killed mid-run, then `--resume`d) is
`test_faults.py`'s; only the spec differs: `search.fuse: 3`.
"""
from __future__ import annotations

import csv
import signal

import pytest
import yaml
from test_faults import (  # noqa: F401  (tmpdir_for_ray: the fixture)
    EPOCHS,
    TRIALS,
    _epochs,
    _kill_ray,
    _spec,
    _sweep,
    _trials,
    _wait_for_mid_sweep,
    tmpdir_for_ray,
)

pytestmark = pytest.mark.slow


def test_fused_sweep_killed_mid_run_resumes_every_member_from_its_checkpoint(tmp_path, tmpdir_for_ray):  # noqa: F811
    storage = tmp_path / "runs"
    spec = _spec(storage)
    spec["search"]["fuse"] = 3
    # One group at a time (each member holds 2/3 of a CPU): with two groups side by side, both
    # finish together on an idle machine and there is no moment with finished and running members.
    spec["resources"]["cpus_per_trial"] = 2
    file = tmp_path / "crash.yaml"
    file.write_text(yaml.safe_dump(spec))
    experiment = storage / "crash"
    proc = _sweep([str(file)], tmpdir_for_ray, start_new_session=True)
    try:
        _wait_for_mid_sweep(proc, experiment)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    finally:
        _kill_ray(tmpdir_for_ray)
    before = _trials(experiment)
    finished = {t: e for t, e in before.items() if e and e[-1] == EPOCHS}
    partial = {t: e for t, e in before.items() if e and e[-1] < EPOCHS}
    assert finished and partial
    # Finished as the driver last saved its state (fused-state.pkl): a member that finished after
    # that save is run again on resume, from its last checkpoint; those before it are kept.
    recorded = _recorded_finished(experiment)
    kept = {t: (experiment / t / "result.json").read_text() for t in finished if t in recorded}

    resumed = _sweep(["--resume", str(experiment)], tmpdir_for_ray)
    try:
        output, _ = resumed.communicate(timeout=400)
    finally:
        _kill_ray(tmpdir_for_ray)
    assert resumed.returncode == 0, output
    with open(experiment / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == TRIALS
    assert all(r["status"] == "finished" and r["epochs"] == str(EPOCHS) for r in rows), rows
    assert len({(r["lr"], r["hidden_units"]) for r in rows}) == TRIALS, "a config was evaluated twice"
    for trial, text in kept.items():
        assert (experiment / trial / "result.json").read_text() == text
    for trial in partial:
        after = _epochs(experiment / trial)
        assert after[-1] == EPOCHS and after.count(1) == 1, f"{trial} restarted at epoch 1: {after}"
        assert set(range(1, EPOCHS + 1)) <= set(after)


def _recorded_finished(experiment) -> set[str]:
    """Trial folders the fused driver's last saved state holds as TERMINATED."""
    import json
    import pickle

    state = experiment / "fused-state.pkl"
    if not state.is_file():
        return set()
    trials = [json.loads(json_state) for json_state, _ in pickle.loads(state.read_bytes())["trials"]]
    return {t["relative_logdir"] for t in trials if t.get("status") == "TERMINATED"}

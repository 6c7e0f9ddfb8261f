"""Ray's own output reaches a user only when asked: a real sweep in a subprocess, from the CLI and
from Python with Ray started by the caller, shows autolearn's progress and summary and none of
Ray's banners, boxes or token-auth warning; `--verbose` lets Ray speak again.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autolearn.internals import RAY_ENV

ROOT = Path(__file__).resolve().parents[2]
SWEEP = [sys.executable, str(ROOT / "scripts" / "sweep.py"), "--max-epochs", "1"]
# What Ray prints when left alone: the token-auth warning at ray.init, the new output engine's
# configuration box and result paths, Tune's INFO lines.
RAY_NOISE = ("Token authentication", "Configuration for experiment", "View detailed results", "╭",
             "Wrote the latest version", "INFO tune.py", "Started a local Ray instance")


def _env() -> dict[str, str]:
    """The user's environment: none of the variables the test session sets for itself (conftest)."""
    env = {k: v for k, v in os.environ.items() if k not in {v.name for v in RAY_ENV} | {"RAY_AUTH_MODE"}}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def _run(args: list[str], timeout: int = 400) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=_env(), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _assert_quiet(proc: subprocess.CompletedProcess[str]) -> None:
    both = proc.stdout + proc.stderr
    heard = [noise for noise in RAY_NOISE if noise in both]
    assert not heard, f"Ray's own output reached the user: {heard}\n{both[-3000:]}"


@pytest.mark.slow
def test_cli_sweep_prints_our_progress_and_summary_and_nothing_of_ray(tmp_path):
    proc = _run([*SWEEP, "--num-samples", "2", "--storage", str(tmp_path), "--name", "quiet"])
    _assert_quiet(proc)
    assert "trials 2/2 done" in proc.stderr  # our live progress
    assert "best config:" in proc.stdout and "trial_id" in proc.stdout  # our table and summary


@pytest.mark.slow
def test_cli_verbose_lets_ray_speak(tmp_path):
    proc = _run([*SWEEP, "--num-samples", "1", "--storage", str(tmp_path), "--name", "loud", "--verbose"])
    assert "Started a local Ray instance" in proc.stderr  # Ray's INFO log, hidden without --verbose
    assert "best config:" in proc.stdout


@pytest.mark.slow
def test_python_run_with_ray_started_by_the_caller_prints_nothing_of_ray(tmp_path):
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent(f"""
        import os
        import ray
        import autolearn
        from autolearn.config.defaults import seed_spec

        spec = seed_spec()
        spec.update(name="api", storage={str(tmp_path / "runs")!r})
        spec["search"]["num_samples"] = 2
        spec["train"]["epochs"] = 1
        ray.init(num_cpus=2, include_dashboard=False)
        print("RAY STARTED", flush=True)
        result = autolearn.run(autolearn.Experiment.from_dict(spec))
        print("BEST", result.best_score)
        print("ENV", sorted(k for k in os.environ if k.startswith(("TUNE_", "RAY_AIR"))))
    """))
    proc = _run([sys.executable, str(script)])
    # The caller's own ray.init speaks before the sweep (the caller chose it); from then on, nothing.
    after = subprocess.CompletedProcess(proc.args, 0, proc.stdout.split("RAY STARTED", 1)[1],
                                        proc.stderr.split("Started a local Ray instance", 1)[-1])
    _assert_quiet(after)
    assert "BEST 0." in proc.stdout
    assert "ENV []" in proc.stdout  # the environment is the caller's again

"""Reliability building blocks without Ray or processes: results written as one unit (under a
real write failure), the stop-signal guard (real signals to this process), the experiment lock,
the hung-trial watchdog, and which trials may be chosen as best."""
from __future__ import annotations

import json
import os
import resource
import signal
import threading
import time

import pytest

from autolearn.errors import ConfigError
from autolearn.execution.lock import LOCK_FILE, experiment_lock
from autolearn.execution.signals import interrupt_guard
from autolearn.results import SweepResult, TrialRow, pick_best
from autolearn.results.commit import write_together
from autolearn.training.watchdog import Watchdog


def _poll(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# --- results and summary as one unit -------------------------------------------------------

def test_write_together_replaces_every_file_and_leaves_no_temporary(tmp_path):
    write_together(str(tmp_path), {"results.csv": "a\n1\n", "summary.json": "{}\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv", "summary.json"]
    assert (tmp_path / "results.csv").read_text() == "a\n1\n"


def test_a_failed_write_keeps_the_previous_pair_whole(tmp_path):
    """A real write failure (the file-size limit: EFBIG, as a full disk gives ENOSPC) on the second
    file: neither file changes, and no temporary file is left."""
    write_together(str(tmp_path), {"results.csv": "old\n", "summary.json": "{\"old\": true}\n"})
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))
    try:
        with pytest.raises(OSError):
            write_together(str(tmp_path), {"results.csv": "new\n", "summary.json": "x" * 5000})
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv", "summary.json"]
    assert (tmp_path / "results.csv").read_text() == "old\n"
    assert json.loads((tmp_path / "summary.json").read_text()) == {"old": True}


def _row(trial_id: str, status: str, score: float) -> TrialRow:
    return TrialRow(trial_id=trial_id, status=status, epochs=2, config={}, metrics={}, best_score=score,
                    best_epoch=1)


def test_timed_out_and_interrupted_trials_are_never_best():
    rows = [_row("a", "timeout", 0.99), _row("b", "interrupted", 0.98), _row("c", "finished", 0.5)]
    assert pick_best(rows, "max").trial_id == "c"


def test_summary_says_whether_the_sweep_is_complete(tmp_path):
    sweep = SweepResult(name="n", experiment_dir=str(tmp_path), metric="m", mode="max", space_keys=[],
                        trials=[_row("a", "interrupted", 0.1)], wall_time_s=1.0, complete=False,
                        interrupted_by="SIGTERM", test_error="MemoryError: boom")
    sweep.save()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["complete"] is False and summary["interrupted_by"] == "SIGTERM"
    assert summary["test_error"] == "MemoryError: boom" and summary["status_counts"]["interrupted"] == 1


# --- stop signals ----------------------------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_is_recorded_and_handlers_are_restored(signum):
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1)}
    with interrupt_guard() as stop:
        assert not stop
        os.kill(os.getpid(), signum)
        assert _poll(lambda: bool(stop))
    assert stop.signum == signum and stop.signame == signal.Signals(signum).name
    assert {s: signal.getsignal(s) for s in before} == before


def test_a_second_sigint_interrupts_at_once():
    with pytest.raises(KeyboardInterrupt), interrupt_guard():
        os.kill(os.getpid(), signal.SIGINT)
        _poll(lambda: False, 0.2)
        os.kill(os.getpid(), signal.SIGINT)
        _poll(lambda: False, 5.0)


def test_off_the_main_thread_the_guard_installs_nothing():
    seen = []

    def body():
        before = signal.getsignal(signal.SIGTERM)
        with interrupt_guard() as stop:
            seen.append((bool(stop), signal.getsignal(signal.SIGTERM) is before))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [(False, True)]


# --- the experiment lock ---------------------------------------------------------------------

def test_the_lock_refuses_a_second_holder_in_one_line(tmp_path):
    folder = tmp_path / "runs" / "exp"
    folder.mkdir(parents=True)
    (folder / LOCK_FILE).write_text(json.dumps({"pid": os.getppid(), "host": os.uname().nodename}))
    with pytest.raises(ConfigError) as err, experiment_lock(folder):
        pass
    assert str(err.value).startswith("name: the experiment 'exp' is in use by process")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("content", [json.dumps({"pid": 4_194_304 + 77, "host": os.uname().nodename}), "{half"])
def test_a_stale_lock_is_taken_over(tmp_path, content):
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / LOCK_FILE).write_text(content)
    with experiment_lock(folder):
        assert json.loads((folder / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert not (folder / LOCK_FILE).exists()


def test_the_lock_removes_the_folders_it_created_when_nothing_was_written(tmp_path):
    # re-entrant: a resume that finds no Ray state starts the sweep afresh under its own lock
    with experiment_lock(tmp_path / "runs" / "exp"), experiment_lock(tmp_path / "runs" / "exp"):
        assert (tmp_path / "runs" / "exp" / LOCK_FILE).is_file()
    assert list(tmp_path.iterdir()) == []


# --- the hung-trial watchdog -----------------------------------------------------------------

def test_the_watchdog_reports_a_hung_trial_once_and_ends_the_thread_at_its_next_report():
    sent: list[dict] = []
    with Watchdog(0.2, lambda metrics, checkpoint=None: sent.append(metrics)) as dog:
        dog.report({"epoch": 1, "val_loss": 0.5})
        assert _poll(lambda: dog.fired)  # the "epoch" below never reports: the watchdog does
        with pytest.raises(SystemExit) as ended:  # a late report ends the training thread
            dog.report({"epoch": 2, "val_loss": 0.4})
        assert ended.value.code == 0
    assert [m.get("timed_out", False) for m in sent] == [False, True]
    assert sent[-1]["epoch"] == 1 and sent[-1]["val_loss"] == 0.5


def test_the_watchdog_stays_quiet_for_a_trial_that_ends_in_time():
    sent: list[dict] = []
    with Watchdog(3600, lambda metrics, checkpoint=None: sent.append(metrics)) as dog:
        dog.report({"epoch": 1})
    assert dog._done.is_set() and not dog.fired and sent == [{"epoch": 1}]

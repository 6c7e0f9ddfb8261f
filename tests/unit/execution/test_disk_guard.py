"""The storage guard's parts on a real folder, without Ray: the reserve it keeps, what counts as a
full disk, and that a trial's "No space left" error makes it give the reserve back and stop."""
from __future__ import annotations

import types

from autolearn.execution.disk_guard import RESERVE_BYTES, StorageGuard, says_disk_full


def test_the_reserve_is_allocated_for_real_and_released(tmp_path):
    StorageGuard(str(tmp_path / "moved-away")).setup()
    assert not (tmp_path / "moved-away").exists()  # never creates the experiment folder
    (tmp_path / "exp").mkdir()
    guard = StorageGuard(str(tmp_path / "exp"))
    guard.setup()
    assert guard.reserve.stat().st_blocks * 512 >= RESERVE_BYTES  # allocated, not a sparse file
    guard.release()
    assert not guard.reserve.exists()


def test_a_trial_that_found_no_space_stops_the_sweep_and_frees_the_reserve(tmp_path):
    """The trials are records of the two fields the guard reads (`error_file`, `trial_id`)."""
    (tmp_path / "exp").mkdir()
    guard = StorageGuard(str(tmp_path / "exp"))
    guard.setup()
    error = tmp_path / "error.txt"
    error.write_text("Failure # 1\nOSError: [Errno 28] Error writing bytes to file. Detail: [errno 28] "
                     "No space left on device\n")
    guard.on_trial_recover(0, [], types.SimpleNamespace(error_file=str(tmp_path / "none.txt"), trial_id="a_1"))
    assert guard.reason is None and guard.reserve.exists()
    # This test's thread has no Tune stop handler: the guard records and logs, and never signals.
    guard.on_trial_recover(0, [], types.SimpleNamespace(error_file=str(error), trial_id="a_2"))
    assert guard.reason == "trial a_2 could not write: No space left on device"
    assert not guard.reserve.exists()
    guard.setup()  # a resume starts unblamed, with its reserve back
    assert guard.reason is None and guard.reserve.exists()


def test_what_counts_as_a_full_disk():
    assert says_disk_full("OSError: [Errno 28] No space left on device: '/x'")
    assert not says_disk_full("OSError: [Errno 13] Permission denied")

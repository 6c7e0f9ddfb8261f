"""What a sweep LEAVES: one row per trial, the best one, its test score, and the files on disk.

`status.py` is the one list of how a trial can end; `storage.py` writes to a folder or a URI
(atomically on local disks); `sweep.py` turns Ray's results into `SweepResult`. Above `config`,
below `execution` and `inspection`, which both read it.
"""
from __future__ import annotations

from autolearn.results.status import STATUSES, classify
from autolearn.results.storage import atomic_write
from autolearn.results.sweep import SweepResult, TrialRow, pick_best, trial_row

__all__ = ["STATUSES", "SweepResult", "TrialRow", "atomic_write", "classify", "pick_best", "trial_row"]

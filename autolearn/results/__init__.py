"""What a sweep LEAVES: one row per trial, the best one, its test score, and the files on disk.

`status.py` is the one list of how a trial can end (and its words for people); `storage.py`
writes to a folder or a URI (atomically on local disks); `sweep.py` builds trial rows (from Ray's
results or, for a running sweep's report, from its trial folders) and `SweepResult`. Above
`config`, below `execution` and `inspection`, which both read it.
"""
from __future__ import annotations

from autolearn.results.status import LABELS, RUNNING, STATUSES, classify, label
from autolearn.results.storage import atomic_write
from autolearn.results.sweep import SweepResult, TrialRow, build_row, pick_best, trial_row

__all__ = ["LABELS", "RUNNING", "STATUSES", "SweepResult", "TrialRow", "atomic_write", "build_row", "classify",
           "label", "pick_best", "trial_row"]

"""results.csv and summary.json are replaced atomically: a failed write leaves the previous version
whole and readable (a real SIGKILL mid-write: tests/integration/test_results_crash.py)."""
from __future__ import annotations

import pytest

from autolearn.results import atomic_write


def test_an_error_mid_write_keeps_the_previous_file_and_no_temp_file(tmp_path):
    target = tmp_path / "results.csv"
    atomic_write(target, "version,1\n")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(target, "version,2\n" + "\ud800")  # cannot be encoded: the write fails
    assert target.read_text() == "version,1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]

"""The periodic upload of a URI sweep's TensorBoard staging folder (`inspection/tb_upload.py`), to a
real file:// URI: only changed files travel, at most once per interval, only when a run ended."""
from __future__ import annotations

from autolearn.inspection.tb_upload import StagingUploader


def test_changed_files_are_uploaded_throttled_and_only_when_pending(tmp_path):
    staging, bucket = tmp_path / "staging", tmp_path / "bucket"
    (staging / "00000_lr=0.1").mkdir(parents=True)
    (staging / "00000_lr=0.1" / "events.1").write_bytes(b"a")
    (staging / "events.root").write_bytes(b"experiment")
    uploader = StagingUploader(f"{bucket.as_uri()}/exp", every_s=3600.0)
    assert uploader.maybe_upload(staging) == 0  # nothing ended yet
    uploader.pending = True
    assert uploader.maybe_upload(staging) == 2  # the first is never throttled
    assert (bucket / "exp" / "tensorboard" / "00000_lr=0.1" / "events.1").read_bytes() == b"a"
    assert (bucket / "exp" / "tensorboard" / "events.root").read_bytes() == b"experiment"
    (staging / "00000_lr=0.1" / "events.1").write_bytes(b"ab")
    uploader.pending = True
    assert uploader.maybe_upload(staging) == 0 and uploader.pending  # within the interval: later
    uploader.every_s = 0.0
    assert uploader.maybe_upload(staging) == 1 and not uploader.pending  # only the file that changed
    assert (bucket / "exp" / "tensorboard" / "00000_lr=0.1" / "events.1").read_bytes() == b"ab"


def test_a_storage_error_is_logged_and_retried_later(tmp_path, caplog):
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "events.1").write_bytes(b"a")
    (tmp_path / "file").write_text("not a folder")
    uploader = StagingUploader(f"{(tmp_path / 'file').as_uri()}/exp", every_s=0.0)
    uploader.pending = True
    assert uploader.maybe_upload(staging) == 0
    assert uploader.pending and "could not upload TensorBoard runs" in caplog.text

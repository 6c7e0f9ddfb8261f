"""Copy a URI sweep's TensorBoard runs to the storage while the sweep runs, not only at its end.

On URI storage the driver writes TensorBoard runs to a local staging folder (`tuner.tensorboard_dir`)
and `collect` publishes them at the end. A driver that dies before (SIGKILL, a lost head node)
used to take every run with it. `StagingUploader` copies the files that changed since its last
upload to `<experiment>/tensorboard` on the storage; the TensorBoard callback calls it when a
trial ends and at each step of Tune's loop, at most once every `every_s` seconds, so a crash
loses at most the last interval's events. Only changed files travel (a finished run's events
file is copied once more after its writer closed it, then never again).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from autolearn.results import storage

log = logging.getLogger(__name__)
UPLOAD_EVERY_S = 15.0


class StagingUploader:
    """Upload the changed files of `local_dir` to `location/name`, throttled to `every_s`."""

    def __init__(self, location: str, name: str = "tensorboard", every_s: float = UPLOAD_EVERY_S) -> None:
        self.location, self.name, self.every_s = location, name, every_s
        self._sent: dict[str, tuple[int, int]] = {}  # absolute path -> (size, mtime_ns) uploaded
        self._last = float("-inf")
        self.pending = False  # something finished since the last upload

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.every_s

    def maybe_upload(self, local_dir: Path) -> int:
        """Upload now if `pending` and the interval has passed; the number of files sent."""
        if not (self.pending and self.due()):
            return 0
        return self.upload(local_dir)

    def upload(self, local_dir: Path) -> int:
        """Upload every file of `local_dir` that changed since the last upload; never raises on a
        storage error (the next upload and the final publish try again): the sweep matters more."""
        self._last, self.pending = time.monotonic(), False
        sent = 0
        try:
            for file in sorted(p for p in Path(local_dir).rglob("*") if p.is_file()):
                stat = file.stat()
                key, state = str(file), (stat.st_size, stat.st_mtime_ns)
                if self._sent.get(key) == state:
                    continue
                relative = file.relative_to(local_dir)
                folder = "/".join([self.location.rstrip("/"), self.name, *relative.parent.parts])
                storage.write_bytes(folder, relative.name, file.read_bytes())
                self._sent[key] = state
                sent += 1
        except OSError as err:
            self.pending = True
            log.warning("could not upload TensorBoard runs to %s (%s); trying again later", self.location, err)
        return sent

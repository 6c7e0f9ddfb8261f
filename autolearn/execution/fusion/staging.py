"""Where a fused sweep's driver writes its members' files: straight into the experiment folder.

Tune's driver writes each trial's result files (`result.json`, `progress.csv`, `params.json`) in a
staging folder inside the Ray session and copies it to the experiment folder now and then. A
fused sweep on one machine runs without a Ray session, and has no reason to copy: on local
storage the staging folder *is* the experiment folder. On a URI the files are staged in a local
folder and uploaded with the sweep's state (`upload`).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ray.tune.experiment import Experiment

from autolearn.internals import storage_context_class


class DriverStorage(storage_context_class()):  # type: ignore[misc]
    """A `StorageContext` whose driver staging folder is the experiment folder (or a local one for a URI)."""

    staging: str | None = None

    @property
    def experiment_driver_staging_path(self) -> str:
        return self.staging or self.experiment_fs_path

    def __str__(self) -> str:
        """Short and the same for every trial of a sweep: Tune's JSON encoder keys a log-once set
        (kept for the life of the process) on `str()` of what it pickles, this object included."""
        return f"DriverStorage({self.experiment_fs_path})"


class DriverExperiment(Experiment):
    """Tune's `Experiment` with a `DriverStorage`: its trials (made from its spec) inherit it."""

    _storage_context_cls = DriverStorage


def stage(storage: Any) -> None:
    """A URI sweep's trial files are staged in a local folder (uploaded by `upload`)."""
    if storage.storage_filesystem.type_name != "local":
        storage.staging = tempfile.mkdtemp(prefix=f"autolearn-{storage.experiment_dir_name}-")


def upload(storage: Any, location: str) -> None:
    """Copy the staged trial files of a URI sweep to its experiment folder (a no-op on local storage)."""
    staging = getattr(storage, "staging", None)
    if not staging:
        return
    from autolearn.results import storage as files

    for folder in Path(staging).iterdir():
        if folder.is_dir():
            files.publish(str(folder), location, folder.name)

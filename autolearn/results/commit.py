"""Write a sweep's result files as one unit: every new file is complete before any old one goes.

`results.csv` and `summary.json` describe the same trials. Written one after the other, a crash,
a full disk or a storage error between the two left a new table next to an old summary (or a
half-written file). Here every file is first written in full to a temporary name beside its
target (flushed and fsynced); only then are they renamed over the old ones, back to back, the
summary last, so a reader that sees a summary also sees the table it counts. A failure while
writing leaves the previous pair untouched and no temporary file behind.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from autolearn.values import is_uri

TEMP_SUFFIX = ".tmp"


def write_together(directory: str, files: Mapping[str, str]) -> None:
    """`directory/name` := text for every entry, in order, as one unit (see the module docstring)."""
    if is_uri(directory):
        _write_uri(directory, files)
    else:
        _write_local(Path(directory), files)


def _write_local(directory: Path, files: Mapping[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=TEMP_SUFFIX)
            staged.append((tmp, directory / name))
            with os.fdopen(fd, "w", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)


def _write_uri(directory: str, files: Mapping[str, str]) -> None:
    """Object stores have no rename that is atomic; upload all first, then move each into place."""
    import pyarrow.fs

    fs, root = pyarrow.fs.FileSystem.from_uri(directory)
    root = root.rstrip("/")
    fs.create_dir(root, recursive=True)
    staged: list[tuple[str, str]] = []
    try:
        for name, text in files.items():
            tmp = f"{root}/.{name}{TEMP_SUFFIX}"
            staged.append((tmp, f"{root}/{name}"))
            with fs.open_output_stream(tmp) as stream:
                stream.write(text.encode())
        for tmp, target in staged:
            fs.move(tmp, target)
    finally:
        for tmp, _ in staged:
            if fs.get_file_info(tmp).type != pyarrow.fs.FileType.NotFound:
                fs.delete_file(tmp)

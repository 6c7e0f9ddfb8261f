"""Where a sweep's files go: a local or shared folder, or a URI any pyarrow filesystem takes.

Ray Tune writes trial results and checkpoints to `storage` itself (through pyarrow, from
whichever node a trial runs on); autolearn's own files (`results.csv`, `summary.json`,
`spec.yaml`, the TensorBoard runs written on the driver) follow the same rule here: a URI
(`s3://`, `gs://`, `file://`, ...) is written through `pyarrow.fs`, a path directly.

On a cluster, a local path is only right if every node mounts the same shared folder there
(NFS, EFS, ...): otherwise Ray fails the first checkpoint a trial on another machine saves.
`warn_if_not_shared` says so before the sweep starts, unless the path is on a network filesystem.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from autolearn.values import is_uri

__all__ = ["NETWORK_FILESYSTEMS", "atomic_write", "exists", "filesystem_type", "is_uri", "publish", "read_text",
           "remove", "warn_if_not_shared", "write_bytes", "write_text"]

log = logging.getLogger(__name__)
NETWORK_FILESYSTEMS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "ceph", "glusterfs", "gpfs",
                       "beegfs", "9p", "fuse.s3fs", "fuse.gcsfuse", "fuse.juicefs", "fuse.sshfs", "efs")


def _fs(uri: str) -> tuple[Any, str]:
    import pyarrow.fs

    return pyarrow.fs.FileSystem.from_uri(uri)


def exists(location: str) -> bool:
    """Whether a file or folder is at `location` (a path, or a URI asked through pyarrow)."""
    if not is_uri(location):
        return Path(location).exists()
    import pyarrow.fs

    fs, path = _fs(location)
    return fs.get_file_info(path).type != pyarrow.fs.FileType.NotFound


def write_text(directory: str, name: str, text: str) -> None:
    """`directory/name` := text; atomic on local disks and `file://` (rename), one upload for other URIs
    (an object store replaces an object whole)."""
    write_bytes(directory, name, text.encode())


def write_bytes(directory: str, name: str, data: bytes) -> None:
    """`directory/name` := data, as `write_text`."""
    if not is_uri(directory):
        atomic_write(Path(directory) / name, data)
        return
    import pyarrow.fs

    fs, path = _fs(directory)
    if isinstance(fs, pyarrow.fs.LocalFileSystem):  # file://: a rename, as for a path (pyarrow writes in place)
        atomic_write(Path(path) / name, data)
        return
    fs.create_dir(path, recursive=True)
    with fs.open_output_stream(f"{path.rstrip('/')}/{name}") as stream:
        stream.write(data)


def read_text(directory: str, name: str) -> str:
    """The text of `directory/name`, from a local folder or a URI."""
    return read_bytes(directory, name).decode()


def read_bytes(directory: str, name: str) -> bytes:
    """The bytes of `directory/name`, from a local folder or a URI."""
    if not is_uri(directory):
        return (Path(directory) / name).read_bytes()
    fs, path = _fs(directory)
    with fs.open_input_stream(f"{path.rstrip('/')}/{name}") as stream:
        return bytes(stream.read())


def remove(directory: str, name: str) -> None:
    """Delete the file `directory/name` (a path or a URI); a missing file is not an error."""
    if not is_uri(directory):
        (Path(directory) / name).unlink(missing_ok=True)
        return
    fs, path = _fs(directory)
    try:
        fs.delete_file(f"{path.rstrip('/')}/{name}")
    except FileNotFoundError:
        pass


def publish(local_dir: str, location: str, name: str) -> None:
    """Copy a staged folder to `location/name` (URIs only) and remove the local copy."""
    if not is_uri(location) or not Path(local_dir).exists():
        return
    import pyarrow.fs

    fs, path = _fs(location)
    fs.create_dir(f"{path.rstrip('/')}/{name}", recursive=True)
    pyarrow.fs.copy_files(local_dir, f"{path.rstrip('/')}/{name}", destination_filesystem=fs)
    shutil.rmtree(local_dir, ignore_errors=True)
    try:  # and the experiment's staging folder, once empty
        Path(local_dir).parent.rmdir()
    except OSError:
        pass


def atomic_write(path: str | Path, text: str | bytes) -> None:
    """Write next to the target and rename over it: readers see the old file or the new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def filesystem_type(path: str | os.PathLike[str]) -> str:
    """The type of the filesystem `path` lives on (from /proc/mounts: the longest mount point)."""
    target = os.path.realpath(path)
    best, kind = "", ""
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > len(best):
            best, kind = mount, fields[2]
    return kind


def warn_if_not_shared(storage: str, multi_node: bool) -> bool:
    """Warn when trials on other machines could not write to `storage`; True if it warned."""
    if is_uri(storage) or not multi_node:
        return False
    kind = filesystem_type(Path(storage).expanduser())  # realpath needs no existing folder
    if kind.startswith(NETWORK_FILESYSTEMS):
        return False
    log.warning("storage %r is a local folder (%s filesystem) but this Ray cluster has, or can add, "
                "more than one node: trials on another machine cannot save checkpoints there, and Ray "
                "fails them. Use a URI (s3://bucket/runs, gs://...) or a folder every node mounts at "
                "the same path (NFS, EFS); a single-machine cluster can ignore this.", storage, kind or "a")
    return True

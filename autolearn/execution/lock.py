"""One sweep at a time per experiment folder: a lock file naming the process that holds it.

Two starts or two `--resume`s of the same name would share `spec.yaml`, Ray's experiment state,
the searcher's state and the trial folders, and silently corrupt each other. The first takes
`<experiment>/.autolearn.lock` (created with O_EXCL, so exactly one wins); the second is
refused in one line naming the holder. A lock left by a process that died (SIGKILL, a power
cut) is taken over when its PID no longer runs on this host; a lock from another host cannot be
checked from here, so the message says how to remove it. URI storage has no atomic create in
general, so sweeps there are not locked (one driver per name is up to the user).
"""
from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from autolearn.errors import ConfigError

log = logging.getLogger(__name__)
LOCK_FILE = ".autolearn.lock"
_HELD: set[Path] = set()  # folders this process holds: resume may start a sweep in its own folder


@contextmanager
def experiment_lock(directory: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the lock on `directory` (created if missing; removed again if we created it and it is
    still empty when the sweep ends, so a refused start leaves nothing behind)."""
    folder = Path(directory).resolve()
    if folder in _HELD:
        yield
        return
    created = next((p for p in (*reversed(folder.parents), folder) if not p.exists()), None)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _acquire(folder / LOCK_FILE)
    except BaseException:
        _remove_if_empty(folder, created)
        raise
    _HELD.add(folder)
    try:
        yield
    finally:
        _HELD.discard(folder)
        (folder / LOCK_FILE).unlink(missing_ok=True)
        _remove_if_empty(folder, created)


def _acquire(path: Path, retry: bool = True) -> None:
    me = {"pid": os.getpid(), "host": socket.gethostname()}
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        holder = _holder(path)
        if retry and is_stale(holder):
            log.warning("taking over the lock of %s from process %s, which no longer runs",
                        path.parent, holder.get("pid"))
            path.unlink(missing_ok=True)
            _acquire(path, retry=False)
            return
        where = f"process {holder.get('pid', '?')} on {holder.get('host', '?')}"
        raise ConfigError("name", f"the experiment {path.parent.name!r} is in use by {where} (lock "
                          f"{str(path)!r}); wait for it to end, or remove the lock file if that process "
                          "is gone") from None
    with os.fdopen(fd, "w") as handle:
        json.dump(me, handle)


def _holder(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # half-written by a process killed mid-write: treated as stale below
    return data if isinstance(data, dict) else {}


def is_stale(holder: dict[str, object]) -> bool:
    """True when the holder is surely gone: unreadable, or a PID that no longer runs on this host."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or holder.get("host") != socket.gethostname():
        return not isinstance(pid, int)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # runs, as another user
    return False


def _remove_if_empty(folder: Path, created: Path | None) -> None:
    """Remove the folders this lock created (up to `created`) while they are empty."""
    if created is None:
        return
    for path in (folder, *folder.parents):
        try:
            path.rmdir()
        except OSError:
            return
        if path == created:
            return

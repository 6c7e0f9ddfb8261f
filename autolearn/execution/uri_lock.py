"""One sweep at a time per experiment on URI storage (`s3://`, `gs://`, `file://`, ...).

The local lock (`lock.py`) relies on an exclusive create, which object stores do not offer
through pyarrow. Here the lock is an object, `<experiment>/.autolearn.lock`, holding its owner,
host, PID, the time and a random token, and it is taken in three steps: read it (a live holder
refuses us in one line), write ours (one upload: an object is replaced whole, never seen half
written), then wait `SETTLE_S` and read it back. Two drivers that raced both wrote, and only the
last write is there: the one whose token it is goes on, the other is refused. (A race is lost
only by a driver whose write lands more than `SETTLE_S` after its own read: an upload that
slow is reported by the heartbeat below, which finds someone else's token.)

A holder rewrites the object every `HEARTBEAT_S` with the current time. A lock is stale, and
taken over with a warning, when it is unreadable, when its PID no longer runs on this host
(as for the local lock), or when it comes from another host and was last refreshed more than
`STALE_AFTER_S` ago (that driver crashed: a live one refreshes it). The lock's file name and its
`pid`/`host` fields are the local lock's, so a `file://` sweep and a resume of the same folder
given as a path exclude each other too.
"""
from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from autolearn.errors import ConfigError
from autolearn.execution.lock import LOCK_FILE, is_stale
from autolearn.results import storage

log = logging.getLogger(__name__)
SETTLE_S = 1.0          # between writing the lock and reading it back
HEARTBEAT_S = 30.0      # how often a holder refreshes the lock's time
STALE_AFTER_S = 300.0   # a lock from another host not refreshed for this long is taken over
_HELD: set[str] = set()  # locations this process holds: resume may start a sweep in its own folder


@contextmanager
def uri_lock(location: str) -> Iterator[None]:
    """Hold the lock of the experiment at `location` (a URI) while the block runs."""
    location = location.rstrip("/")
    if location in _HELD:
        yield
        return
    mine = _acquire(location)
    _HELD.add(location)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(location, mine, stop), daemon=True,
                            name="autolearn-uri-lock")
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()
        _HELD.discard(location)
        _release(location, mine)


def _me() -> dict[str, Any]:
    try:
        owner = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        owner = str(os.getuid()) if hasattr(os, "getuid") else "?"
    return {"owner": owner, "host": socket.gethostname(), "pid": os.getpid(), "time": time.time(),
            "token": uuid.uuid4().hex}


def read_holder(location: str) -> dict[str, Any] | None:
    """The lock's content; None when there is no lock, {} when it cannot be read as a lock."""
    if not storage.exists(f"{location}/{LOCK_FILE}"):
        return None
    try:
        data = json.loads(storage.read_text(location, LOCK_FILE))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def lock_is_stale(holder: dict[str, Any], now: float | None = None) -> bool:
    """True when the holder is surely gone (see the module's docstring)."""
    if is_stale(holder):
        return True
    if holder.get("host") == socket.gethostname():
        return False  # its PID runs here: is_stale said so
    stamp = holder.get("time")
    age = (now if now is not None else time.time()) - stamp if isinstance(stamp, (int, float)) else None
    return age is None or age > STALE_AFTER_S


def _refusal(location: str, holder: dict[str, Any]) -> ConfigError:
    stamp = holder.get("time")
    since = time.strftime(" since %Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp)) if isinstance(stamp, (int, float)) else ""
    who = f"process {holder.get('pid', '?')} of {holder.get('owner', '?')} on {holder.get('host', '?')}{since}"
    return ConfigError("name", f"the experiment {location.rpartition('/')[2]!r} is in use by {who} (lock "
                       f"{location}/{LOCK_FILE}); wait for it to end, or delete that lock if the process is "
                       f"gone (it is taken over by itself {STALE_AFTER_S:.0f} s after its last refresh)")


def _acquire(location: str) -> dict[str, Any]:
    holder = read_holder(location)
    if holder is not None:
        if not lock_is_stale(holder):
            raise _refusal(location, holder)
        log.warning("taking over the lock of %s from process %s on %s, which is gone", location,
                    holder.get("pid", "?"), holder.get("host", "?"))
    mine = _me()
    storage.write_text(location, LOCK_FILE, json.dumps(mine))
    time.sleep(SETTLE_S)
    now = read_holder(location)
    if not now or now.get("token") != mine["token"]:
        raise _refusal(location, now or {})  # another driver wrote after us: it holds the lock
    return mine


def _heartbeat(location: str, mine: dict[str, Any], stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        try:
            holder = read_holder(location)
            if holder and holder.get("token") != mine["token"]:
                log.error("the lock of %s was taken by process %s on %s: two drivers may now write this "
                          "experiment", location, holder.get("pid", "?"), holder.get("host", "?"))
                return
            storage.write_text(location, LOCK_FILE, json.dumps({**mine, "time": time.time()}))
        except OSError as err:  # storage briefly unreachable: try again at the next beat
            log.warning("could not refresh the lock of %s (%s)", location, err)


def _release(location: str, mine: dict[str, Any]) -> None:
    """Delete the lock if it is still ours (a driver that lost it leaves the new holder's alone)."""
    try:
        holder = read_holder(location)
        if holder and holder.get("token") == mine["token"]:
            storage.remove(location, LOCK_FILE)
    except OSError as err:
        log.warning("could not remove the lock of %s (%s); the next start takes it over once stale",
                    location, err)

"""The lock of experiments on URI storage (`execution/uri_lock.py`) on real file:// URIs, in this
process: who is refused, which locks are stale and taken over, what a refusal says. The race
between real processes is in tests/integration/test_reliability_storage.py."""
from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

import pytest

from autolearn.errors import ConfigError
from autolearn.execution import uri_lock as ul
from autolearn.execution.lock import LOCK_FILE, experiment_lock


@pytest.fixture
def uri(tmp_path, monkeypatch) -> str:
    monkeypatch.setattr(ul, "SETTLE_S", 0.01)
    return (tmp_path / "bucket" / "exp").as_uri()


def _lock_file(uri: str) -> Path:
    return Path(uri.removeprefix("file://")) / LOCK_FILE


def _write(uri: str, **holder) -> None:
    _lock_file(uri).parent.mkdir(parents=True, exist_ok=True)
    _lock_file(uri).write_text(json.dumps(holder))


def _dead_pid() -> int:
    pid = int(Path("/proc/sys/kernel/pid_max").read_text()) - 1
    while Path(f"/proc/{pid}").exists():
        pid -= 1
    return pid


def test_the_lock_is_held_written_with_its_owner_and_removed_after(uri):
    with ul.uri_lock(uri):
        holder = json.loads(_lock_file(uri).read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        assert {"owner", "time", "token"} <= holder.keys()
        with ul.uri_lock(uri):  # the same process again (a resume that starts the sweep afresh)
            pass
        assert _lock_file(uri).exists()
    assert not _lock_file(uri).exists()


@pytest.mark.parametrize("age_s", [0, 60])
def test_a_live_holder_refuses_in_one_line_naming_it(uri, age_s):
    _write(uri, pid=4242, host="gpu-node-7", owner="ana", time=time.time() - age_s, token="theirs")
    with pytest.raises(ConfigError) as err, ul.uri_lock(uri):
        pass
    message = str(err.value)
    assert message.startswith("name: the experiment 'exp' is in use by process 4242 of ana on gpu-node-7 since ")
    assert f"{uri}/{LOCK_FILE}" in message and "\n" not in message
    assert json.loads(_lock_file(uri).read_text())["token"] == "theirs"  # left alone


def test_a_live_process_on_this_host_holds_however_old_its_lock(uri):
    _write(uri, pid=os.getppid(), host=socket.gethostname(), time=0.0, token="theirs")
    with pytest.raises(ConfigError, match="is in use by process"), ul.uri_lock(uri):
        pass


@pytest.mark.parametrize("holder", [
    "dead-pid-here", "old-other-host", "unreadable", "no-time-other-host"])
def test_a_stale_lock_is_taken_over_with_a_warning(uri, holder, caplog):
    if holder == "unreadable":
        _lock_file(uri).parent.mkdir(parents=True)
        _lock_file(uri).write_text("{ half")
    else:
        fields = {"dead-pid-here": {"pid": _dead_pid(), "host": socket.gethostname(), "time": time.time()},
                  "old-other-host": {"pid": 1, "host": "gone-node", "time": time.time() - ul.STALE_AFTER_S - 1},
                  "no-time-other-host": {"pid": 1, "host": "gone-node"}}[holder]
        _write(uri, **fields, token="theirs")
    with caplog.at_level(logging.WARNING, logger=ul.__name__), ul.uri_lock(uri):
        assert json.loads(_lock_file(uri).read_text())["pid"] == os.getpid()
    assert "taking over the lock" in caplog.text
    assert not _lock_file(uri).exists()


def test_a_local_lock_on_the_same_folder_excludes_a_file_uri_lock(uri):
    folder = Path(uri.removeprefix("file://"))
    with experiment_lock(folder), pytest.raises(ConfigError, match="is in use by process"), ul.uri_lock(uri):
        pass
    with ul.uri_lock(uri), pytest.raises(ConfigError, match="is in use by process"), experiment_lock(folder):
        pass


def test_a_lock_rewritten_by_another_driver_while_settling_refuses_us(uri, monkeypatch):
    """The race: both wrote, the other's write is the one left; read back, ours lost."""
    real_sleep = time.sleep

    def other_driver_writes(seconds: float) -> None:
        _write(uri, pid=777, host="other-node", owner="bo", time=time.time(), token="theirs")
        real_sleep(seconds)

    monkeypatch.setattr(ul.time, "sleep", other_driver_writes)
    with pytest.raises(ConfigError, match="in use by process 777 of bo on other-node"), ul.uri_lock(uri):
        pass
    assert json.loads(_lock_file(uri).read_text())["token"] == "theirs"

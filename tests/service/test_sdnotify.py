"""sd_notify: the datagram protocol, the daemon's notifier, and the real daemon process talking
to a NOTIFY_SOCKET this test owns."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess
from venvsyncd.daemon.serve import status_line
from venvsyncd.service import sdnotify
from venvsyncd.service.sdnotify import ServiceNotifier, format_message, watchdog_interval
from venvsyncd.wire.status import ProjectStatus


class Receiver:
    """A datagram socket standing in for systemd's notify socket."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)

    def get(self, timeout: float = 10.0) -> tuple[float, dict[str, str]]:
        """The next message (its arrival time, its fields); TimeoutError when none comes."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        fields = dict(line.split("=", 1) for line in data.decode().split("\n"))
        return time.monotonic(), fields

    def until(self, key: str, timeout: float = 30.0) -> list[tuple[float, dict[str, str]]]:
        """Messages up to and including the first with `key`."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            message = self.get(max(0.01, deadline - time.monotonic()))
            seen.append(message)
            if key in message[1]:
                return seen

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver(f"@venvsyncd-test-{uuid.uuid4().hex}")
    yield got
    got.close()


# ---- the protocol ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"READY": 1}, b"READY=1"),
        ({"READY": True, "STATUS": "2 projects"}, b"READY=1\nSTATUS=2 projects"),
        ({"STATUS": "two\nlines"}, b"STATUS=two lines"),
        ({"WATCHDOG": 1, "WATCHDOG_USEC": 2000000}, b"WATCHDOG=1\nWATCHDOG_USEC=2000000"),
    ],
)
def test_format_message(fields: dict[str, object], expected: bytes) -> None:
    assert format_message(fields) == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "60000000"}, 60.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "4242"}, 2.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),  # another process's
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval(env, pid=4242) == expected


def test_no_notify_socket_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.notify(READY=1) is False
    assert ServiceNotifier.from_environ().enabled is False


def test_path_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = Path(tempfile.mkdtemp(prefix="vsd-"))  # short: AF_UNIX paths are limited
    got = Receiver(str(folder / "notify"))
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", got.address)
        assert sdnotify.ready("1 project: 1 in-sync")
        _, fields = got.get()
        pid = str(os.getpid())
        assert fields == {"READY": "1", "STATUS": "1 project: 1 in-sync", "MAINPID": pid}
    finally:
        got.close()
        shutil.rmtree(folder)


def test_abstract_socket(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", receiver.address)
    assert sdnotify.stopping()
    assert receiver.get()[1] == {"STOPPING": "1", "STATUS": "stopping"}


def test_a_socket_nobody_reads_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", f"@venvsyncd-nobody-{uuid.uuid4().hex}")
    assert sdnotify.watchdog() is False


# ---- the daemon's notifier -------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_notifier_beats_at_half_the_interval(receiver: Receiver) -> None:
    clock = Clock()
    notifier = ServiceNotifier(receiver.address, 2.0, clock)
    assert notifier.beat() == pytest.approx(1.0)  # nothing due yet
    clock.now += 0.6
    assert notifier.beat() == pytest.approx(0.4)
    clock.now += 0.4
    assert notifier.beat() == pytest.approx(1.0)
    assert receiver.get()[1] == {"WATCHDOG": "1"}
    with pytest.raises(TimeoutError):
        receiver.get(0.05)


def test_notifier_hold_stretches_the_watchdog_once(receiver: Receiver) -> None:
    notifier = ServiceNotifier(receiver.address, 2.0, Clock())
    notifier.hold(None)  # already normal: nothing sent
    notifier.hold(600.0)
    notifier.hold(600.0)
    notifier.hold(None)
    assert receiver.get()[1] == {"WATCHDOG": "1", "WATCHDOG_USEC": "600000000"}
    assert receiver.get()[1] == {"WATCHDOG": "1", "WATCHDOG_USEC": "2000000"}
    with pytest.raises(TimeoutError):
        receiver.get(0.05)


def test_notifier_status_waits_for_ready_and_changes(receiver: Receiver) -> None:
    notifier = ServiceNotifier(receiver.address, None, Clock())
    notifier.status("1 project: 1 pending")  # before READY: kept, not sent
    notifier.ready("1 project: 1 pending")
    notifier.status("1 project: 1 pending")  # unchanged: not sent
    notifier.status("1 project: 1 in-sync")
    notifier.stopping()
    notifier.stopping()
    notifier.status("1 project: 1 error")  # after STOPPING: not sent
    assert receiver.get()[1]["READY"] == "1"
    assert receiver.get()[1] == {"STATUS": "1 project: 1 in-sync"}
    assert receiver.get()[1] == {"STOPPING": "1", "STATUS": "stopping"}
    with pytest.raises(TimeoutError):
        receiver.get(0.05)
    assert notifier.beat() == 1.0  # no watchdog: the loop's usual second


def _status(state: str) -> ProjectStatus:
    return ProjectStatus(
        "/p", "/p/.venv", "/p/r.txt", None, "both", "preserve", state, 0, None, None, None
    )


@pytest.mark.parametrize(
    ("states", "line"),
    [
        ([], "no projects"),
        (["in-sync"], "1 project: 1 in-sync"),
        (["error", "in-sync", "in-sync"], "3 projects: 2 in-sync, 1 error"),
        (["paused", "syncing", "pending"], "3 projects: 1 pending, 1 syncing, 1 paused"),
    ],
)
def test_status_line(states: list[str], line: str) -> None:
    assert status_line([_status(s) for s in states]) == line


# ---- the real daemon -------------------------------------------------------------------
def _inotify_inodes(pid: int) -> set[int]:
    """The inodes a process has inotify watches on (from /proc/PID/fdinfo)."""
    inodes = set()
    for info in Path(f"/proc/{pid}/fdinfo").iterdir():
        for line in info.read_text().splitlines():
            if line.startswith("inotify wd:"):
                fields = dict(part.split(":", 1) for part in line.split()[1:])
                inodes.add(int(fields["ino"], 16))
    return inodes


@pytest.fixture
def watched_project(tmp_path: Path) -> Path:
    """A project that is in sync at once: an empty venv and an empty requirements file."""
    folder = tmp_path / "app"
    folder.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", folder / ".venv"], check=True)
    (folder / "requirements.txt").write_text("")
    return folder


def _start(project: Path, receiver: Receiver, tmp_path: Path) -> DaemonProcess:
    env = {**os.environ, "NOTIFY_SOCKET": receiver.address, "WATCHDOG_USEC": "2000000"}
    return DaemonProcess(project, log=tmp_path / "daemon.log", env=env)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify and /proc are Linux's")
def test_daemon_ready_watchdog_stopping(
    watched_project: Path, receiver: Receiver, tmp_path: Path
) -> None:
    daemon = _start(watched_project, receiver, tmp_path)
    try:
        ready_at, ready = receiver.until("READY")[-1]
        # READY=1 comes once the watches are set: the project folder and its site-packages.
        site = next((watched_project / ".venv" / "lib").glob("python*/site-packages"))
        wanted = {watched_project.stat().st_ino, site.stat().st_ino}
        assert wanted <= _inotify_inodes(daemon.proc.pid), daemon.output()
        assert ready["MAINPID"] == str(daemon.proc.pid)
        assert ready["STATUS"] == "1 project: 1 pending"
        beats = _watchdog_beats(receiver, ready_at, seconds=3.0)
        daemon.proc.send_signal(signal.SIGTERM)
        assert receiver.until("STOPPING")[-1][1]["STOPPING"] == "1"
        assert daemon.proc.wait(20) == 0
    finally:
        daemon.stop()
    assert len(beats) >= 3, beats
    gaps = [(b - a, held) for (a, held), (b, _) in itertools.pairwise(beats)]
    assert all(gap <= 1.0 + 0.5 for gap, held in gaps if not held), gaps  # WatchdogSec/2


def _watchdog_beats(receiver: Receiver, since: float, seconds: float) -> list[tuple[float, bool]]:
    """WATCHDOG=1 arrival times for `seconds`, each with whether it stretched the watchdog
    (a sync running: the next beat may come later)."""
    beats = [(since, False)]
    end = since + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            at, fields = receiver.get(left)
        except TimeoutError:
            break
        if fields.get("WATCHDOG") == "1":
            beats.append((at, int(fields.get("WATCHDOG_USEC", "2000000")) > 2000000))
    return beats


def test_daemon_says_stopping_on_stop(
    watched_project: Path, receiver: Receiver, tmp_path: Path
) -> None:
    from venvsyncd.cli import main

    daemon = _start(watched_project, receiver, tmp_path)
    try:
        receiver.until("READY")
        assert main(["stop"]) == 0
        assert receiver.until("STOPPING")[-1][1]["STOPPING"] == "1"
        assert daemon.proc.wait(20) == 0
    finally:
        daemon.stop()

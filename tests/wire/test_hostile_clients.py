"""Hostile clients against the real daemon process: 100 MB frames, 1,000 connections at once.

(Random bytes, truncated JSON, a frame just over 1 MiB, a slow client, 200 connections and a
peer of another uid are in test_ipc.py, against the server in-process.) Here: the daemon's
memory stays bounded (its RSS before and after), it keeps answering, and it never crashes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testing.daemonproc import DaemonProcess
from testing.faultkit import daemons, write_config
from venvsyncd.wire import client

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
__all__ = ["daemons"]  # the fixture

Start = Callable[..., DaemonProcess]
MB = 1024 * 1024


def _proc_status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc/{pid}/status")


def _rss_mb(daemon: DaemonProcess) -> float:
    return _proc_status(daemon.proc.pid, "VmRSS") / 1024


def _huge_frame(path: Path, size: int) -> tuple[int, dict[str, Any] | None]:
    """Send `size` bytes without a newline; how many the daemon took, and its reply."""
    sent = 0
    chunk = b"x" * MB
    with client.connect(path, 30) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while sent < size:
                sent += sock.send(chunk)
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while part := sock.recv(65536):
                data += part
    return sent, json.loads(data) if data else None


def _status_ok(daemon: DaemonProcess) -> bool:
    reply = client.request(daemon.socket, "status", 30.0)
    return bool(reply["daemon"]["pid"] == daemon.proc.pid)


@pytest.fixture
def daemon(daemons: Start) -> DaemonProcess:
    write_config([])
    started = daemons()
    for _ in range(20):  # warm up: imports and the first threads are not a leak
        _status_ok(started)
    return started


def test_100_mb_frames_are_cut_off_and_memory_stays_bounded(daemon: DaemonProcess) -> None:
    before = _rss_mb(daemon)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _huge_frame(daemon.socket, 100 * MB), range(4)))
        assert _status_ok(daemon)  # answered while they send
    for sent, reply in results:
        assert sent < 100 * MB  # cut off long before the end
        assert reply is None or "longer than" in reply["error"], reply
    assert _status_ok(daemon)
    grown = _rss_mb(daemon) - before
    print(f"RSS {before:.1f} MB, after four 100 MB frames +{grown:.1f} MB")
    assert grown < 25, f"the daemon grew by {grown:.1f} MB"


def _open(path: Path, count: int) -> list[socket.socket]:
    """`count` connections, opened as fast as the listen backlog lets them in."""
    opened: list[socket.socket] = []
    deadline = time.monotonic() + 60
    while len(opened) < count:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect(str(path))
        except BlockingIOError:  # the backlog is full: the daemon is accepting
            sock.close()
            assert time.monotonic() < deadline, f"only {len(opened)} connections in 60 s"
            continue
        opened.append(sock)
    return opened


def _replies(socks: list[socket.socket]) -> list[dict[str, Any] | None]:
    frame = client.encode_frame({"op": "ping"})
    for sock in socks:
        sock.setblocking(True)
        sock.settimeout(60)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(frame)
    replies: list[dict[str, Any] | None] = []
    for sock in socks:
        with contextlib.suppress(ConnectionResetError):
            line = client.read_frame(sock, client.MAX_REPLY, time.monotonic() + 60)
            replies.append(None if line is None else client.decode_frame(line))
            continue
        replies.append(None)
    return replies


def test_1000_connections_at_once(daemon: DaemonProcess) -> None:
    pid = daemon.proc.pid
    before, threads = _rss_mb(daemon), _proc_status(pid, "Threads")
    socks = _open(daemon.socket, 1000)
    try:
        started = time.monotonic()
        assert _status_ok(daemon)  # someone else still gets an answer (busy is asked again)
        waited = time.monotonic() - started
        replies = _replies(socks)
    finally:
        for sock in socks:
            sock.close()
    kinds = Counter(_kind(reply, pid) for reply in replies)
    print(f"1000 silent connections: {dict(kinds)}; status answered in {waited:.2f} s")
    assert set(kinds) <= {"answered", "busy", "timed out"} and kinds["busy"] >= 900, kinds
    assert _status_ok(daemon)
    grown = _rss_mb(daemon) - before
    assert grown < 25, f"the daemon grew by {grown:.1f} MB"
    assert _proc_status(pid, "Threads") <= threads + 2  # the connection threads are gone


def _kind(reply: dict[str, Any] | None, pid: int) -> str:
    if reply is None:
        return "no reply"
    if reply.get("pid") == pid:
        return "answered"
    error = str(reply.get("error"))
    return {"busy": "busy"}.get(error, "timed out" if "no complete request" in error else error)

"""Projects act independently: one project's long install holds no other project, status
tells each project's truth meanwhile, waiters lock nobody out, and `stop` ends the install."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from testing.daemonproc import (
    DaemonProcess,
    HeldWheels,
    Sampler,
    installed_names,
    slow_wheel,
    start,
    wait_for,
)
from testing.venvs import SETTLE, make_venv, pip, pip_freeze
from venvsyncd.cli import main
from venvsyncd.env.venvs import Venv
from venvsyncd.errors import Exit, VenvsyncdError
from venvsyncd.wire import client

pytestmark = pytest.mark.slow

WAITERS = 100


def _project(folder: Path, text: str) -> tuple[Venv, Path]:
    venv = make_venv(folder / ".venv", "alpha==1.0")
    req = folder / "requirements.txt"
    req.write_text(text)
    return venv, req


def _state(daemon: DaemonProcess, folder: Path) -> tuple[float, str, str | None, bool]:
    """When, the project's state and message, and whether its file had `beta` just after."""
    shown = daemon.project(folder)
    written = "beta==1.0" in (folder / "requirements.txt").read_text()
    return time.monotonic(), shown["state"], shown["message"], written


class Waiters:
    """`status --wait` callers for `folder`, each on its own thread, their replies kept."""

    def __init__(self, daemon: DaemonProcess, folder: Path, count: int) -> None:
        self.replies: list[dict[str, Any] | Exception] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._wait, args=(daemon, folder), daemon=True)
            for _ in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def _wait(self, daemon: DaemonProcess, folder: Path) -> None:
        try:
            reply: dict[str, Any] | Exception = client.request(
                daemon.socket, "wait", 90.0, path=str(folder), timeout=60.0
            )
        except VenvsyncdError as exc:
            reply = exc
        with self._lock:
            self.replies.append(reply)

    def join(self, timeout: float) -> list[dict[str, Any] | Exception]:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return self.replies


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts connections in /proc")
def test_a_held_install_holds_no_other_project_and_stop_ends_it(
    tmp_path: Path, daemon_factory: list[DaemonProcess]
) -> None:
    wheels = tmp_path / "held"
    wheels.mkdir()
    slow_wheel(wheels, "slowpkg", modules=20)
    held = HeldWheels(wheels)
    try:
        source = f"--find-links {held.url}\nalpha==1.0\n"  # approved with the project
        a_venv, a_req = _project(tmp_path / "a", source)
        b_venv, b_req = _project(tmp_path / "b", "alpha==1.0\n")
        daemon = start(daemon_factory, tmp_path / "a", tmp_path / "b", tmp=tmp_path)
        daemon.idle()
        a_req.write_text(source + "slowpkg\n")
        assert held.requested.wait(60), "the daemon's pip never asked for slowpkg"
        wait_for(lambda: _state(daemon, tmp_path / "a")[1] == "syncing", 30, "A syncing")
        _b_acts_meanwhile(daemon, tmp_path, b_venv, b_req)
        _waiters_lock_nobody_out(daemon, tmp_path / "a")
        assert "slowpkg" not in installed_names(a_venv)  # ended before it got its wheel
        assert a_req.read_text() == source + "slowpkg\n"
        held.release()  # the next start checks A again, and its install goes through
        again = start(daemon_factory, tmp_path / "a", tmp_path / "b", tmp=tmp_path)
        shown = {p["path"]: p for p in again.idle(timeout=120)["projects"]}
    finally:
        held.close()
    assert shown[str(tmp_path / "a")]["state"] == "in-sync", shown
    assert "slowpkg==1.0" in pip_freeze(a_venv)


def _b_acts_meanwhile(daemon: DaemonProcess, tmp_path: Path, venv: Venv, req: Path) -> None:
    """B's pip install reaches B's file within settle + 1.5 s; B never reads in-sync while
    its change waits, and A reads `syncing` all along."""
    b_states = Sampler(lambda: _state(daemon, tmp_path / "b"))
    a_states = Sampler(lambda: _state(daemon, tmp_path / "a"))
    pip(venv, "install", "beta")
    exited = time.monotonic()
    wait_for(lambda: "beta==1.0" in req.read_text(), 30, "beta in B's file")
    written = time.monotonic()
    b_seen, a_seen = b_states.stop(), a_states.stop()
    print(f"B: pip exit -> file written {written - exited:.3f} s while A's install is held")
    assert written - exited < SETTLE + 1.5
    waiting = [s for s in b_seen if not isinstance(s, Exception) and s[0] > exited and not s[3]]
    assert waiting, "no status sample of B while its change waited"
    assert all(state in ("pending", "syncing") for _, state, _, _ in waiting), waiting
    assert all(s[1] == "syncing" and s[2] for s in a_seen if not isinstance(s, Exception))
    assert not [s for s in b_seen + a_seen if isinstance(s, Exception)]
    assert daemon.idle(path=tmp_path / "b")["projects"][0]["state"] == "in-sync"


def _waiters_lock_nobody_out(daemon: DaemonProcess, folder: Path) -> None:
    """100 waiters on A (busy) leave `status` and `stop` answered; `stop` ends A's install."""
    waiters = Waiters(daemon, folder, WAITERS)
    exits: list[int] = []  # and one `venvsyncd status --wait`, which hears the daemon stop
    cli = threading.Thread(target=lambda: exits.append(main(["status", "--wait", str(folder)])))
    cli.start()
    wait_for(lambda: _connected(daemon) > WAITERS + 1, 30, "the waiters to connect")
    for _ in range(5):
        assert daemon.status()["daemon"]["pid"] == daemon.proc.pid  # not "busy"
    asked = time.monotonic()
    assert main(["stop"]) == 0
    print(f"stop during a held install returned in {time.monotonic() - asked:.2f} s")
    assert time.monotonic() - asked < 10.0
    assert daemon.proc.wait(5) == 0
    replies = waiters.join(30)
    assert len(replies) == WAITERS
    cli.join(30)
    assert exits == [Exit.NO_DAEMON]
    assert all(isinstance(r, dict) and r.get("idle") is False for r in replies), replies[:3]


def _connected(daemon: DaemonProcess) -> int:
    """How many sockets the daemon holds open now (its listener and its connections)."""
    fds = Path(f"/proc/{daemon.proc.pid}/fd")
    sockets = 0
    for fd in fds.iterdir():
        try:
            sockets += fd.readlink().name.startswith("socket:")
        except OSError:
            continue
    return sockets


def test_a_start_syncs_only_what_changed_while_stopped(
    tmp_path: Path, daemon_factory: list[DaemonProcess]
) -> None:
    a_venv, a_req = _project(tmp_path / "a", "alpha==1.0\n")
    b_venv, b_req = _project(tmp_path / "b", "alpha==1.0\n")
    daemon = start(daemon_factory, tmp_path / "a", tmp_path / "b", tmp=tmp_path)
    daemon.idle()
    assert main(["stop"]) == 0
    pip(b_venv, "install", "beta")  # while no daemon runs
    again = start(daemon_factory, tmp_path / "a", tmp_path / "b", tmp=tmp_path)
    shown = {p["path"]: p for p in again.idle()["projects"]}
    assert "1 of 2 projects as they were at the last stop" in again.output()
    assert [p["state"] for p in shown.values()] == ["in-sync", "in-sync"]
    assert shown[str(tmp_path / "a")]["packages"] == 1
    assert b_req.read_text() == "alpha==1.0\nbeta==1.0\n"
    assert a_req.read_text() == "alpha==1.0\n" and "beta" not in pip_freeze(a_venv)

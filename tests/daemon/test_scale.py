"""The daemon at scale and when inotify fails it: 100 projects, lost events, no watches."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess, wait_for
from testing.venvs import make_venv, pip
from venvsyncd.config import load_config
from venvsyncd.daemon.core import Daemon
from venvsyncd.paths import locations

pytestmark = pytest.mark.slow


@pytest.fixture
def config(isolated_home: Path) -> Path:
    path = Path(os.environ["VENVSYNCD_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[daemon]\nsettle_seconds = 0.2\ninstaller = "pip"\n')
    return path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_hundred_projects_answer_fast_and_idle_cheaply(config: Path, tmp_path: Path) -> None:
    folders = []
    for i in range(100):
        folder = tmp_path / "projects" / f"p{i:03d}"
        folder.mkdir(parents=True)
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", folder / ".venv"], check=True
        )
        (folder / "requirements.txt").write_text("# nothing yet\n")
        folders.append(folder)
    config.write_text(config.read_text() + "".join(f'[[project]]\npath = "{f}"\n' for f in folders))
    daemon = DaemonProcess(log=tmp_path / "daemon.log")
    try:
        answered = daemon.ready()
        print(f"100 projects: status answered {answered:.2f} s after start")
        assert answered < 5.0
        shown = daemon.idle(timeout=120)
        assert len(shown["projects"]) == 100
        assert all(p["state"] == "in-sync" for p in shown["projects"])
        before, started = cpu_seconds(daemon.proc.pid), time.monotonic()
        idle = threading.Event()
        idle.wait(10)  # the measurement window itself: 10 s of idling
        used = cpu_seconds(daemon.proc.pid) - before
        rss = rss_mb(daemon.proc.pid)
        threads = len(list(Path(f"/proc/{daemon.proc.pid}/task").iterdir()))
        print(f"idle {time.monotonic() - started:.1f} s: {used:.3f} s CPU, {rss:.1f} MB RSS")
        print(f"{threads} threads for 100 projects (watchdog's Observer: 2 per project)")
        assert used < 0.05 and rss < 60  # idle, the coordinator sleeps until it is due
        assert threads <= 12  # the coordinator, the action threads, one inotify reader, IPC
    finally:
        daemon.stop()


def test_lost_events_are_found_by_the_rescan(config: Path, project: Path, tmp_path: Path) -> None:
    """The real Daemon with its watcher never started: every inotify event is lost."""
    venv = make_venv(project / ".venv", "alpha==1.0")
    req = project / "requirements.txt"
    req.write_text("alpha==1.0\n")
    daemon = Daemon(load_config(config), [project], locations(), rescan=0.5)
    daemon.watcher.start = lambda: None  # type: ignore[method-assign]  # the events never come
    daemon.start_watching()
    worker = threading.Thread(target=daemon.run_worker)
    worker.start()
    try:
        assert daemon.wait_idle([str(project)], 60)
        pip(venv, "install", "eta")
        wait_for(lambda: "eta==1.0" in req.read_text(), 90, "the rescan to find eta")
        assert daemon.wait_idle([str(project)], 30)  # the file is written inside the sync
        assert daemon.published[0].state == "in-sync"
    finally:
        daemon.stop()
        worker.join(30)


@pytest.fixture
def no_inotify_instances() -> Iterator[int]:
    """Use up this user's inotify instances, as a desktop full of watchers can."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    held: list[int] = []
    try:
        for _ in range(100_000):
            fd = libc.inotify_init1(os.O_CLOEXEC)
            if fd < 0:
                break
            held.append(fd)
        yield len(held)
    finally:
        for fd in held:
            os.close(fd)


@pytest.mark.skipif(sys.platform != "linux", reason="inotify is Linux's")
def test_without_inotify_projects_are_polled_and_say_why(
    config: Path, project: Path, tmp_path: Path, no_inotify_instances: int
) -> None:
    venv = make_venv(project / ".venv", "alpha==1.0")
    req = project / "requirements.txt"
    req.write_text("alpha==1.0\n")
    daemon = DaemonProcess(project, log=tmp_path / "daemon.log")
    try:
        daemon.ready()
        shown = daemon.idle()["projects"][0]
        assert shown["state"] == "in-sync"
        assert "polled" in shown["message"] and "max_user_instances" in shown["message"]
        assert "polled" in daemon.output()
        pip(venv, "install", "eta")
        wait_for(lambda: "eta==1.0" in req.read_text(), 30, "polling to find eta")
    finally:
        daemon.stop()

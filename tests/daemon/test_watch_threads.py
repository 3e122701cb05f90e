"""The daemon's watches, on real inotify through watchdog: one reader thread for thousands of
folders, and a file moved out of a watched folder reported at once (watchdog's emitters
hold an unpaired move 0.5 s, and every later event of the folder behind it)."""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess, start, wait_for
from testing.venvs import SETTLE, make_venv, pip
from testing.wheelhouse import write_wheel
from venvsyncd.daemon.watch import Watcher

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="inotify is Linux's"),
    pytest.mark.slow,
]

FOLDERS = 3000
HELD_MOVE = 0.5  # how long watchdog's emitter holds an unpaired IN_MOVED_FROM


class Heard:
    """What a `Watcher` reports, with when it came."""

    def __init__(self) -> None:
        self.events: queue.SimpleQueue[tuple[float, str, str]] = queue.SimpleQueue()

    def __call__(self, src: str, dest: str | None, kind: str) -> None:
        self.events.put((time.monotonic(), src, kind))

    def next_at(self, path: Path, timeout: float = 10.0) -> tuple[float, str]:
        """When `path` was reported next, and as what (events of other paths are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            at, src, kind = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            if src == str(path):
                return at, kind


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def watcher(heard: Heard) -> Iterator[Watcher]:
    watcher = Watcher(heard)
    watcher.start()
    yield watcher
    watcher.stop()


def test_thousands_of_folders_take_no_thread_each(
    tmp_path: Path, heard: Heard, watcher: Watcher
) -> None:
    folders = [tmp_path / f"p{i:04d}" for i in range(FOLDERS)]
    for folder in folders:
        folder.mkdir()
    before = threading.active_count()
    assert watcher.set_folders(folders) == {}
    assert threading.active_count() == before  # watchdog's Observer: one emitter per folder
    assert watcher.watching(folders[::500])
    (folders[-1] / "requirements.txt").write_text("six\n")
    assert heard.next_at(folders[-1] / "requirements.txt")[1] == "written"
    assert watcher.set_folders(folders[:10]) == {}
    assert not watcher.watching(folders[-1:])


def test_a_move_out_is_reported_at_once_and_holds_nothing_back(
    tmp_path: Path, heard: Heard, watcher: Watcher
) -> None:
    site, elsewhere = tmp_path / "site-packages", tmp_path / "pip-uninstall-x"
    site.mkdir()
    elsewhere.mkdir()
    module = site / "six.py"
    module.write_text("# six\n")
    assert watcher.set_folders([site]) == {}
    moved = time.monotonic()
    module.rename(elsewhere / "six.py")  # pip's uninstall of a single-file module
    at, kind = heard.next_at(module)
    (site / "later.txt").write_text("x")
    later, _ = heard.next_at(site / "later.txt")
    print(f"move out reported after {at - moved:.4f} s, the next event {later - at:.4f} s on")
    assert kind == "gone"
    assert at - moved < HELD_MOVE and later - moved < HELD_MOVE


def test_a_rename_into_place_reports_both_halves(
    tmp_path: Path, heard: Heard, watcher: Watcher
) -> None:
    assert watcher.set_folders([tmp_path]) == {}
    partial = tmp_path / ".requirements.txt.tmp"
    partial.write_text("six==1.16.0\n")
    os.replace(partial, tmp_path / "requirements.txt")  # an editor's atomic save
    kinds = [heard.next_at(partial)[1]]
    while kinds[-1] != "gone":
        kinds.append(heard.next_at(partial)[1])
    assert kinds[0] == "written" and kinds[-2] == "closed", kinds
    assert heard.next_at(tmp_path / "requirements.txt")[1] == "moved-in"


def test_a_deleted_folder_is_no_longer_watched(
    tmp_path: Path, heard: Heard, watcher: Watcher
) -> None:
    folder = tmp_path / "venv-site"
    folder.mkdir()
    assert watcher.set_folders([folder]) == {}
    folder.rmdir()
    assert heard.next_at(folder)[1] == "changed"
    wait_for(lambda: not watcher.watching([folder]), 10, "the kernel to drop the watch")


def test_uninstalling_a_single_file_module_reaches_the_file_without_delay(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    """pip moves `sixlike.py` out of site-packages to its stash: once held 0.5 s."""
    wheels = tmp_path / "single"
    wheels.mkdir()
    info = "sixlike-1.0.dist-info"
    files = {
        "sixlike.py": b"VERSION = '1.0'\n",
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: sixlike\nVersion: 1.0\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    write_wheel(wheels / "sixlike-1.0-py3-none-any.whl", files, info)
    venv = make_venv(project / ".venv", "alpha==1.0")
    pip(venv, "install", "--find-links", str(wheels), "sixlike")
    req = project / "requirements.txt"
    req.write_text("alpha==1.0\nsixlike==1.0\n")
    daemon = start(daemon_factory, project, tmp=tmp_path)
    daemon.idle()
    pip(venv, "uninstall", "--yes", "sixlike")
    exited = time.monotonic()
    wait_for(lambda: req.read_text() == "alpha==1.0\n", 30, "sixlike gone from the file")
    latency = time.monotonic() - exited
    print(f"pip uninstall of a single-file module -> file: {latency:.3f} s (settle {SETTLE})")
    assert latency < SETTLE + 1.0

"""SIGKILL of the real daemon while it writes the file or runs its own install, then a restart.

Alternately the user moves `alpha` in the venv (the daemon rewrites the file) and edits the
file (the daemon runs pip); the daemon is killed at a random moment of its work. After each
kill the file is whole, the state loads, and the restarted daemon reaches what the user did.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess, wait_for
from testing.faultkit import daemons, new_project, uv_install, write_config
from testing.venvs import pip_freeze
from venvsyncd.cli import main
from venvsyncd.engine.journal import entries
from venvsyncd.engine.snapshot import load_snapshot, project_state_dir
from venvsyncd.paths import locations

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
__all__ = ["daemons"]  # the fixture

Start = Callable[..., DaemonProcess]
KILLS = 8
HEAD = "# kills: keep me\n--no-index\n"


def _text(alpha: str, eta: bool) -> str:
    return HEAD + f"alpha=={alpha}  # pinned\nbeta>=1.0\n" + ("eta==1.0\n" if eta else "")


def _kill_while_syncing(
    daemon: DaemonProcess, path: Path, within: float, rng: random.Random
) -> None:
    wait_for(lambda: daemon.project(path)["state"] == "syncing", 30, "the daemon to act", 0.002)
    time.sleep(rng.uniform(0.0, within))  # the fault's timing, not a synchronisation
    daemon.kill()


def test_the_daemon_killed_mid_work_loses_nothing(tmp_path: Path, daemons: Start) -> None:
    folder, venv = new_project(tmp_path, "app", _text("1.0", False), "alpha==1.0", "beta==1.0")
    requirements = folder / "requirements.txt"
    write_config([{"path": str(folder)}], settle_seconds=0.05)
    state = project_state_dir(locations().state_dir, folder)
    rng = random.Random(77)
    alpha, eta = "1.0", False
    daemon = daemons()
    daemon.idle()
    for kill in range(KILLS):
        before = requirements.read_text()
        if kill % 2 == 0:  # the user moves alpha: the daemon writes the file
            alpha = "1.1" if alpha == "1.0" else "1.0"
            uv_install(venv, f"alpha=={alpha}")
            _kill_while_syncing(daemon, folder, 0.03, rng)
        else:  # the user edits the file: the daemon runs pip
            eta = not eta
            requirements.write_text(_text(alpha, eta))
            _kill_while_syncing(daemon, folder, 0.8, rng)
        assert requirements.read_text() in (before, _text(alpha, eta)), kill
        load_snapshot(state)  # loads: raises StateProblem if it were damaged
        assert all(e.content.read_bytes() for e in entries(state))
        daemon = daemons()
        shown = daemon.idle(timeout=120)["projects"][0]
        assert shown["state"] == "in-sync", (kill, shown, daemon.output())
        assert requirements.read_text() == _text(alpha, eta), kill
        frozen = pip_freeze(venv).splitlines()
        assert f"alpha=={alpha}" in frozen and ("eta==1.0" in frozen) == eta, (kill, frozen)
    assert main(["sync", str(folder), "--check"]) == 0


def test_a_watched_folder_reports_its_entries_not_itself(tmp_path: Path) -> None:
    """inotify says "modified" for a watched folder after each change of an entry; for
    site-packages the daemon took that for the venv made anew: it re-watched it and synced
    once more after every install, and a `wait` could answer idle just before that sync
    (the soak saw it at one quiet point in three)."""
    from venvsyncd.daemon.watch import Watcher

    heard: list[str] = []
    watcher = Watcher(lambda src, dest, kind: heard.append(src))
    watcher.start()
    try:
        assert watcher.set_folders({tmp_path}) == {}
        (tmp_path / "pkg-1.0.dist-info").mkdir()
        (tmp_path / "pkg.py").write_text("x = 1\n")
        (tmp_path / "pkg.py").rename(tmp_path / "pkg2.py")
        wait_for(lambda: str(tmp_path / "pkg.py") in heard, 10, "the events")
    finally:
        watcher.stop()
    assert str(tmp_path) not in heard, heard

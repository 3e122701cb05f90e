"""Faults around a real daemon: failing installers, a full disk, permissions.

Each fault must end in a clear `status` message, lose nothing (the file byte for byte, the
venv as it was), and leave the daemon serving its other projects.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess, wait_for
from testing.faultkit import (
    Served,
    daemon_env,
    daemons,
    new_project,
    unprivileged,
    uv_install,
    wait_state,
    write_config,
)
from testing.venvs import pip_freeze
from venvsyncd.cli import main
from venvsyncd.env.commands import CommandError, run_command

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
__all__ = ["daemons"]  # the fixture

Start = Callable[..., DaemonProcess]
LOOPBACK_INDEX = "http://127.0.0.1:9/simple"  # the discard port: nothing listens


def test_installer_failures_are_errors_and_lose_nothing(tmp_path: Path, daemons: Start) -> None:
    healthy = Served(tmp_path)
    base = "# pinned by hand\nalpha==1.0\n"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "brokenpkg-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 not a zip at all")
    edits = {
        "missing": (base.replace("1.0", "9.9"), "alpha==9.9"),
        "corrupt": (base + f"--find-links {broken}\nbrokenpkg==1.0\n", "brokenpkg"),
        "offline": (base + f"--index-url {LOOPBACK_INDEX}\nnosuchpkg==1.0\n", "Connection refused"),
    }
    projects = {name: new_project(tmp_path, name, base, "alpha==1.0") for name in edits}
    # trust = "all": the failures come from sources the edits bring (tests/daemon/test_trust.py
    # is where such sources wait for `allow`)
    folders = [p for p, _ in [*projects.values(), (healthy.path, None)]]
    write_config([{"path": str(p), "trust": "all"} for p in folders])
    env = daemon_env(drop=["PIP_NO_INDEX"], PIP_INDEX_URL=LOOPBACK_INDEX, PIP_RETRIES="1")
    daemon = daemons(env=env)
    daemon.idle()
    before = {name: pip_freeze(venv) for name, (_, venv) in projects.items()}
    for name, (text, _) in edits.items():
        (projects[name][0] / "requirements.txt").write_text(text)
    for name, (text, said) in edits.items():
        folder, venv = projects[name]
        shown = wait_state(daemon, folder, "error")
        assert said in shown["message"], shown
        assert (folder / "requirements.txt").read_text() == text
        assert pip_freeze(venv) == before[name]
    healthy.check(daemon)
    missing = projects["missing"][0]
    (missing / "requirements.txt").write_text(base)  # the user takes the edit back
    wait_state(daemon, missing, "in-sync")


def test_disk_full_is_an_error_and_the_next_change_catches_up(
    tmp_path: Path, daemons: Start
) -> None:
    """RLIMIT_FSIZE makes every write past 64 KiB fail with EFBIG, like a full disk."""
    healthy = Served(tmp_path)
    padding = "".join(f"# {'note ' * 12}{i}\n" for i in range(1500))  # ~100 KB of comments
    big, venv = new_project(tmp_path, "big", padding + "alpha==1.0\n", "alpha==1.0")
    write_config([{"path": str(big)}, {"path": str(healthy.path)}])
    limit = 64 * 1024
    env = daemon_env(VENVSYNCD_RESCAN_SECONDS="0.5")

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    assert main(["sync", str(big)]) == 0  # its snapshot, before the disk fills up
    daemon = daemons(env=env, preexec_fn=small_files)
    assert daemon.idle()["projects"][0]["state"] == "in-sync"
    uv_install(venv, "eta")
    shown = wait_state(daemon, big, "error")
    assert "File too large" in shown["message"], shown
    assert (big / "requirements.txt").read_text() == padding + "alpha==1.0\n"
    healthy.check(daemon)
    unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    resource.prlimit(daemon.proc.pid, resource.RLIMIT_FSIZE, unlimited)  # space freed
    wait_state(daemon, big, "in-sync")
    assert (big / "requirements.txt").read_text() == padding + "alpha==1.0\neta==1.0\n"
    healthy.check(daemon)


def test_read_only_file_is_respected_and_said(tmp_path: Path, daemons: Start) -> None:
    healthy = Served(tmp_path)
    text = "# mine, read-only\nalpha==1.0\n"
    folder, venv = new_project(tmp_path, "locked", text, "alpha==1.0")
    requirements = folder / "requirements.txt"
    write_config([{"path": str(folder)}, {"path": str(healthy.path)}])
    daemon = daemons(prefix=unprivileged(), env=daemon_env(VENVSYNCD_RESCAN_SECONDS="0.5"))
    daemon.idle()
    requirements.chmod(0o444)
    uv_install(venv, "eta")
    shown = wait_state(daemon, folder, "error")
    assert "read-only" in shown["message"], shown
    assert requirements.read_text() == text and requirements.stat().st_mode & 0o777 == 0o444
    healthy.check(daemon)
    requirements.chmod(0o644)  # the user allows it: the change is written then
    wait_state(daemon, folder, "in-sync")
    assert requirements.read_text() == text + "eta==1.0\n"
    assert requirements.stat().st_mode & 0o777 == 0o644


def test_site_packages_not_writable_is_an_error(tmp_path: Path, daemons: Start) -> None:
    healthy = Served(tmp_path)
    text = "alpha==1.0\n"
    folder, venv = new_project(tmp_path, "frozen", text, "alpha==1.0")
    write_config([{"path": str(folder)}, {"path": str(healthy.path)}])
    daemon = daemons(prefix=unprivileged())
    daemon.idle()
    before = pip_freeze(venv)
    venv.site_packages.chmod(0o555)
    try:
        (folder / "requirements.txt").write_text(text + "eta==1.0\n")
        shown = wait_state(daemon, folder, "error")
        assert "Permission denied" in shown["message"], shown
        assert (folder / "requirements.txt").read_text() == text + "eta==1.0\n"
        assert pip_freeze(venv) == before
        healthy.check(daemon)
    finally:
        venv.site_packages.chmod(0o755)
    daemon.ask("sync", path=str(folder))  # what `venvsyncd sync` asks of a daemon
    wait_for(lambda: "eta==1.0" in pip_freeze(venv), 60, "eta installed once allowed")
    wait_state(daemon, folder, "in-sync")


def test_an_installer_killed_by_a_signal_is_named() -> None:
    """A full disk kills pip and uv with SIGXFSZ (they do not ignore it as Python does)."""
    with pytest.raises(CommandError) as caught:
        run_command(["sh", "-c", "kill -XFSZ $$"])
    assert "was killed by SIGXFSZ (File size limit exceeded)" in caught.value.message

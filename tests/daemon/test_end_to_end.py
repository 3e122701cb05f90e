"""End to end: the real daemon process, real pip and uv, real files, its real socket."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from testing.daemonproc import (
    DaemonProcess,
    HeldWheels,
    installer_runs,
    journal_count,
    slow_wheel,
    slow_wheelhouse,
    start,
    wait_for,
    watched,
)
from testing.venvs import SETTLE, UV, make_venv, pip, pip_freeze, run
from venvsyncd.cli import main
from venvsyncd.paths import locations

pytestmark = pytest.mark.slow


def test_pip_install_reaches_the_file_once(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv, req, daemon = watched(
        daemon_factory, project, tmp_path, "# app\nalpha==1.0\n", "alpha==1.0"
    )
    pip(venv, "install", "beta")
    exited = time.monotonic()
    wait_for(lambda: "beta==1.0" in req.read_text(), 30, "beta in the file")
    latency = time.monotonic() - exited
    print(f"pip exit -> file written: {latency:.3f} s (settle_seconds = {SETTLE})")
    shown = daemon.idle()["projects"][0]
    assert shown["state"] == "in-sync" and "beta" in shown["last_change"]
    assert req.read_text() == "# app\nalpha==1.0\nbeta==1.0\n"
    assert journal_count(project) == 1  # exactly one write
    assert installer_runs(daemon) == 0  # our own write made no install


def test_large_install_is_written_once_after_it_ends(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv = make_venv(project / ".venv")
    req = project / "requirements.txt"
    req.write_text("")
    wheels = tmp_path / "slow"
    wheels.mkdir()
    names = [f"slow{i}" for i in range(4)]
    for name in names:
        slow_wheel(wheels, name, modules=150)
    daemon = start(daemon_factory, project, tmp=tmp_path)
    daemon.idle()
    pip(venv, "install", "--find-links", str(wheels), *names, "beta", "gamma[fast]")
    daemon.idle()
    text = req.read_text()
    for name in [*names, "alpha", "beta", "delta", "gamma"]:
        assert f"{name}==" in text
    assert journal_count(project) == 1  # one write, after the install (the empty file kept)
    assert text == pip_freeze(venv)


@pytest.mark.parametrize("how", ["rename", "in-place", "git-checkout"])
def test_saving_the_file_installs_once(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path, how: str
) -> None:
    venv = make_venv(project / ".venv", "alpha==1.0")
    req = project / "requirements.txt"
    req.write_text("alpha==1.0\n")
    if how == "git-checkout":
        run(["git", "init", "-q", "-b", "main", project])
        (project / ".gitignore").write_text(".venv/\n")
        run(["git", "-C", project, "add", "."])
        run(["git", "-C", project, "commit", "-qm", "one"])
        run(["git", "-C", project, "checkout", "-qb", "two"])
        req.write_text("alpha==1.0\neta==1.0\n")
        run(["git", "-C", project, "commit", "-qam", "two"])
        run(["git", "-C", project, "checkout", "-q", "main"])
    daemon = start(daemon_factory, project, tmp=tmp_path)
    daemon.idle()
    if how == "rename":
        tmp = project / ".requirements.txt.swp"
        tmp.write_text("alpha==1.0\neta==1.0\n")
        tmp.replace(req)
    elif how == "in-place":
        with open(req, "a") as f:
            f.write("eta==1.0\n")
    else:
        run(["git", "-C", project, "checkout", "-q", "two"])
    wait_for(lambda: "eta==1.0" in pip_freeze(venv), 60, "eta installed")
    daemon.idle()
    assert installer_runs(daemon) == 1
    assert req.read_text() == "alpha==1.0\neta==1.0\n"


def test_file_change_waits_for_a_running_pip(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv, req, daemon = watched(daemon_factory, project, tmp_path, "alpha==1.0\n", "alpha==1.0")
    held = HeldWheels(slow_wheelhouse(tmp_path))
    try:
        user_pip = subprocess.Popen(
            [venv.python, "-m", "pip", "install", "--find-links", held.url, "slowpkg"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert held.requested.wait(60), "pip never asked for the wheel"
        req.write_text("alpha==1.0\neta==1.0\n")  # saved while the user's pip runs
        wait_for(
            lambda: "waiting" in (daemon.project(project)["message"] or ""),
            60,
            "the daemon to wait for pip",
        )
        assert "eta" not in pip_freeze(venv)  # nothing installed while pip runs
        held.release()
        assert user_pip.wait(120) == 0
    finally:
        held.close()
    shown = daemon.idle()["projects"][0]
    frozen = pip_freeze(venv)
    assert "eta==1.0" in frozen and "slowpkg==1.0" in frozen
    assert shown["state"] == "in-sync"
    assert req.read_text() == "alpha==1.0\neta==1.0\nslowpkg==1.0\n"
    assert installer_runs(daemon) == 1


def test_kill_during_own_install_then_restart_reconciles(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    wheels = slow_wheelhouse(tmp_path)
    text = f"# keep me\n--find-links {wheels}\nalpha==1.0\n"  # its source approved at once
    venv, req, daemon = watched(daemon_factory, project, tmp_path, text, "alpha==1.0")
    req.write_text(f"# keep me\n--find-links {wheels}\nalpha==1.0\nslowpkg\n")
    wait_for(lambda: daemon.project(project)["state"] == "syncing", 60, "the daemon's install")
    wait_for(lambda: (venv.site_packages / "slowpkg").exists(), 60, "its pip to write")
    daemon.kill()
    again = start(daemon_factory, project, tmp=tmp_path)
    shown = again.idle(timeout=120)["projects"][0]
    assert shown["state"] == "in-sync", shown
    assert req.read_text() == f"# keep me\n--find-links {wheels}\nalpha==1.0\nslowpkg\n"
    assert "slowpkg==1.0" in pip_freeze(venv)
    assert main(["sync", str(project), "--check"]) == 0


def test_uv_install_reaches_the_file(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv, req, daemon = watched(daemon_factory, project, tmp_path, "alpha==1.0\n", "alpha==1.0")
    run([UV, "pip", "install", "--python", venv.python, "eta", "alpha==2.0"])
    wait_for(lambda: "eta==1.0" in req.read_text(), 30, "eta in the file")
    daemon.idle()
    assert req.read_text() == "alpha==2.0\neta==1.0\n"
    assert journal_count(project) == 1


def test_no_daemon_second_daemon_and_stop(
    project: Path,
    daemon_factory: list[DaemonProcess],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["status"]) == 3
    assert "venvsyncd run" in capsys.readouterr().err
    make_venv(project / ".venv")
    daemon = start(daemon_factory, project, tmp=tmp_path)
    second = subprocess.run(
        [sys.executable, "-m", "venvsyncd", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 1 and str(daemon.proc.pid) in second.stderr
    assert main(["stop"]) == 0
    assert daemon.proc.wait(20) == 0
    assert not locations().socket.exists()


def test_deleted_file_is_an_error_and_uninstalls_nothing(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv, req, daemon = watched(daemon_factory, project, tmp_path, "alpha==1.0\n", "alpha==1.0")
    req.unlink()
    wait_for(lambda: daemon.project(project)["state"] == "error", 30, "the error state")
    assert "deleted" in daemon.project(project)["message"]
    assert "alpha==1.0" in pip_freeze(venv)
    req.write_text("alpha==1.0\n")
    wait_for(lambda: daemon.project(project)["state"] == "in-sync", 30, "back in sync")


def test_a_deleted_venv_is_waited_for_and_no_other_is_made(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    import shutil

    make_venv(project / ".venv", "alpha==1.0")
    req = project / "requirements.txt"
    req.write_text("alpha==1.0\n")
    daemon = start(daemon_factory, project, tmp=tmp_path)
    daemon.idle()
    shutil.rmtree(project / ".venv")
    wait_for(lambda: daemon.project(project)["state"] == "drift", 30, "the wait for the venv")
    assert "waits" in daemon.project(project)["message"]
    assert not any((project / name).exists() for name in (".venv", "venv", "env"))
    assert main(["sync", str(project), "--from", "file"]) == 0  # the user asks for it
    python = project / ".venv" / "bin" / "python"
    assert "alpha==1.0" in run([python, "-m", "pip", "freeze"]).stdout
    daemon.idle()
    assert req.read_text() == "alpha==1.0\n"
    run([python, "-m", "pip", "install", "eta"])  # the new venv is watched
    wait_for(lambda: "eta==1.0" in req.read_text(), 30, "eta in the file")


def test_the_tutorials_venv_made_again_stays_the_one_followed(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    """`rm -rf venv && python -m venv venv`: the daemon waits for `venv` (it made a `.venv`
    of its own and followed that before), fills it from the file, and follows it."""
    import shutil

    make_venv(project / "venv", "alpha==1.0")
    req = project / "requirements.txt"
    req.write_text("# the tutorial's\nalpha==1.0\n")
    daemon = start(daemon_factory, project, tmp=tmp_path)
    daemon.idle()
    shutil.rmtree(project / "venv")
    wait_for(lambda: daemon.project(project)["state"] == "drift", 30, "the wait for venv")
    run([sys.executable, "-m", "venv", project / "venv"])
    python = project / "venv" / "bin" / "python"
    wait_for(
        lambda: "alpha==1.0" in run([python, "-m", "pip", "freeze"]).stdout,
        60,
        "venv filled from the file",
    )
    shown = daemon.idle()["projects"][0]
    assert shown["venv"] == str(project / "venv") and shown["state"] == "in-sync", shown
    assert not (project / ".venv").exists()
    run([python, "-m", "pip", "install", "eta"])
    wait_for(lambda: "eta==1.0" in req.read_text(), 30, "eta in the file")
    assert req.read_text() == "# the tutorial's\nalpha==1.0\neta==1.0\n"


def test_venv_recreated_by_hand_is_filled_from_the_file(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path, config: Path
) -> None:
    import shutil

    config.write_text(
        config.read_text().replace("[daemon]", "[defaults]\ncreate_venv = false\n[daemon]")
    )
    make_venv(project / ".venv", "alpha==1.0")
    req = project / "requirements.txt"
    req.write_text("alpha==1.0\n")
    daemon = start(daemon_factory, project, tmp=tmp_path)
    daemon.idle()
    shutil.rmtree(project / ".venv")
    wait_for(lambda: daemon.project(project)["state"] == "drift", 30, "the wait for the venv")
    assert "waits" in daemon.project(project)["message"]
    fresh = make_venv(project / ".venv")  # empty: filled from the file, the file untouched
    wait_for(lambda: "alpha==1.0" in pip_freeze(fresh), 60, "alpha installed in the new venv")
    daemon.idle()
    assert req.read_text() == "alpha==1.0\n"

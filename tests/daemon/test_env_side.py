"""End to end, "never half-way, never lost": what happens in the venv reaches the files.

A user's pip that runs while the daemon's own install is held, a pin that lives in an
included file (inside the project, or outside it), and a venv left broken by an uninstall:
real pip, real files, the real daemon process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.daemonproc import (
    DaemonProcess,
    HeldWheels,
    installed_names,
    slow_wheel,
    start,
    wait_for,
    watched,
)
from testing.venvs import make_venv, pip, pip_freeze
from venvsyncd.cli import main
from venvsyncd.engine.journal import entries
from venvsyncd.engine.snapshot import project_state_dir
from venvsyncd.paths import locations

pytestmark = pytest.mark.slow


def _state(daemon: DaemonProcess, project: Path) -> str:
    return str(daemon.project(project)["state"])


# ---- a user's pip while the daemon's own install runs -----------------------------------------


def test_user_pip_during_the_daemons_install_reaches_the_file(
    project: Path,
    daemon_factory: list[DaemonProcess],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wheels = tmp_path / "held"
    wheels.mkdir()
    slow_wheel(wheels, "slowpkg", modules=20)
    held = HeldWheels(wheels)
    try:
        source = f"--find-links {held.url}\n"  # approved with the project, before the change
        venv, req, daemon = watched(
            daemon_factory, project, tmp_path, f"{source}alpha==1.0\n", "alpha==1.0"
        )
        req.write_text(f"{source}alpha==1.0\nslowpkg\n")
        assert held.requested.wait(60), "the daemon's pip never asked for slowpkg"
        wait_for(lambda: _state(daemon, project) == "syncing", 30, "status to say syncing")
        pip(venv, "install", "gamma")  # the user's pip, done while the daemon's waits
        held.release()
        shown = daemon.idle(timeout=120)["projects"][0]
    finally:
        held.close()
    lines = req.read_text().splitlines()
    assert "gamma==1.0" in lines, lines  # what the user installed meanwhile is in the file
    assert "slowpkg" in lines, lines
    assert shown["state"] == "in-sync", shown
    frozen = pip_freeze(venv)
    assert "gamma==1.0" in frozen and "slowpkg==1.0" in frozen
    assert main(["sync", str(project), "--check"]) == 0
    capsys.readouterr()
    assert main(["diff", str(project)]) == 0
    assert "venv only" not in capsys.readouterr().out


# ---- a pin in an included file ------------------------------------------------------------


def _journal(project: Path) -> list[tuple[str, bytes]]:
    found = entries(project_state_dir(locations().state_dir, project))
    return [(entry.file.name, entry.content.read_bytes()) for entry in found]


def test_upgrade_of_a_pin_in_an_include_inside_the_project_edits_the_include(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv = make_venv(project / ".venv", "alpha==1.0", "delta==1.0")
    (project / "requirements").mkdir()
    base = project / "requirements" / "base.txt"
    base_text = "# shared pins\nalpha==1.0\n"
    base.write_text(base_text)
    req = project / "requirements.txt"
    text = "# app\n-r requirements/base.txt\ndelta==1.0\n"
    req.write_text(text)
    daemon = start(daemon_factory, project, tmp=tmp_path)
    daemon.idle()
    pip(venv, "install", "alpha==2.0")
    shown = daemon.idle()["projects"][0]
    assert base.read_text() == "# shared pins\nalpha==2.0\n"  # the pin moved where it lives
    assert req.read_text() == text
    assert ("base.txt", base_text.encode()) in _journal(project)
    assert shown["state"] == "in-sync", shown
    with open(req, "a") as f:
        f.write("eta==1.0\n")
    wait_for(lambda: "eta" in installed_names(venv), 60, "eta installed")
    shown = daemon.idle()["projects"][0]
    assert "alpha==2.0" in pip_freeze(venv).splitlines()
    assert base.read_text() == "# shared pins\nalpha==2.0\n"
    assert req.read_text() == text + "eta==1.0\n"
    assert shown["state"] == "in-sync", shown


def test_upgrade_of_a_pin_in_an_include_outside_the_project_is_drift(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv = make_venv(project / ".venv", "alpha==1.0", "delta==1.0")
    (tmp_path / "common").mkdir()
    common = tmp_path / "common" / "common.txt"
    common.write_text("alpha==1.0\n")
    req = project / "requirements.txt"
    text = "-r ../common/common.txt\ndelta==1.0\n"
    req.write_text(text)
    daemon = start(daemon_factory, project, tmp=tmp_path)
    assert daemon.idle()["projects"][0]["state"] == "in-sync"
    pip(venv, "install", "alpha==2.0")
    shown = daemon.idle()["projects"][0]
    assert common.read_text() == "alpha==1.0\n"  # not ours to write
    assert req.read_text() == text
    assert shown["state"] == "drift", shown  # and not in-sync: the file says alpha==1.0
    assert "common.txt" in shown["message"]
    with open(req, "a") as f:
        f.write("eta==1.0\n")
    wait_for(lambda: "eta" in installed_names(venv), 60, "eta installed")
    daemon.idle()
    assert "alpha==2.0" in pip_freeze(venv).splitlines()  # not put back to common.txt's pin
    assert common.read_text() == "alpha==1.0\n"
    assert req.read_text() == text + "eta==1.0\n"


# ---- a venv left broken by an uninstall -------------------------------------------------------


def test_uninstall_of_a_needed_package_is_reported_broken(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv, req, daemon = watched(
        daemon_factory, project, tmp_path, "alpha==1.0\nbeta==1.0\n", "alpha==1.0", "beta==1.0"
    )
    pip(venv, "uninstall", "-y", "alpha")  # beta requires alpha
    wait_for(lambda: "alpha" not in req.read_text(), 30, "alpha's line gone from the file")
    shown = daemon.idle()["projects"][0]
    assert req.read_text() == "beta==1.0\n"
    broken = shown.get("broken")
    assert isinstance(broken, list) and broken, f"status names no broken requirement: {shown}"
    assert any("alpha" in line.lower() for line in broken), broken
    pip(venv, "install", "alpha==1.0")
    wait_for(lambda: "alpha==1.0" in req.read_text(), 30, "alpha's line back in the file")
    shown = daemon.idle()["projects"][0]
    assert req.read_text() == "alpha==1.0\nbeta==1.0\n"
    assert shown["broken"] == [], shown
    assert shown["state"] == "in-sync", shown

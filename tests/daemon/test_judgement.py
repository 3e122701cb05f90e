"""End to end, "never half-way, never lost": when the real daemon may act on a file change.

A save that lands while the daemon syncs, a save in two chunks, an emptied file, a file a
shell keeps open for a slow `pip freeze >`, a removed line that another package still needs,
and the config file edited by hand: real pip, real files, the real daemon process.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from testing.daemonproc import (
    DaemonProcess,
    HeldWheels,
    Sampler,
    installed_names,
    installer_runs,
    slow_wheel,
    start,
    wait_for,
    watched,
)
from testing.venvs import make_venv, pip, pip_freeze, run
from venvsyncd.cli import main
from venvsyncd.engine.journal import entries
from venvsyncd.engine.snapshot import project_state_dir
from venvsyncd.paths import locations

pytestmark = pytest.mark.slow

FIVE = "alpha==1.0\nbeta==1.0\ndelta==1.0\neta==1.0\ngamma==1.0\n"
FIVE_NAMES = ("alpha", "beta", "delta", "eta", "gamma")


def _state(daemon: DaemonProcess, project: Path) -> str:
    return str(daemon.project(project)["state"])


def _uninstalls(daemon: DaemonProcess) -> list[str]:
    """The `-name` words of the daemon's sync summaries (`requirements.txt -> +a -b`)."""
    found = []
    for line in daemon.output().splitlines():
        if "requirements.txt -> " in line:
            found += re.findall(r"(?:^|\s)-([A-Za-z0-9][\w.-]*)", line.split(" -> ", 1)[1])
    return found


# ---- a save while the daemon syncs ------------------------------------------------------------


def test_save_during_a_syncing_install_and_write_is_kept(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
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
        user_pip = subprocess.Popen(
            [venv.python, "-m", "pip", "install", "beta"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        req.write_text(f"{source}alpha==1.0\nslowpkg\n")  # same batch as the pip install
        assert user_pip.wait(120) == 0
        assert held.requested.wait(60), "the daemon's pip never asked for slowpkg"
        wait_for(lambda: _state(daemon, project) == "syncing", 30, "status to say syncing")
        with open(req, "a") as f:  # saved while the daemon's install runs
            f.write("# note\n")
        held.release()
        shown = daemon.idle(timeout=120)["projects"][0]
    finally:
        held.close()
    lines = req.read_text().splitlines()
    assert "# note" in lines, lines  # the save was not written over
    assert "slowpkg" in lines and "beta==1.0" in lines and "alpha==1.0" in lines, lines
    assert shown["state"] == "in-sync", shown
    frozen = pip_freeze(venv)
    assert "slowpkg==1.0" in frozen and "beta==1.0" in frozen


def _append_when_syncing(daemon: DaemonProcess, project: Path, req: Path, note: str) -> bool:
    """Append `note` as soon as status says syncing (True), or once the sync is over (False)."""
    deadline = time.monotonic() + 60
    while (state := _state(daemon, project)) == "pending":  # as fast as the socket answers
        assert time.monotonic() < deadline, "the daemon never synced the pip run"
    with open(req, "a") as f:
        f.write(note)
    return state == "syncing"


def test_saves_while_the_daemon_writes_are_never_lost(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv, req, daemon = watched(daemon_factory, project, tmp_path, "alpha==1.0\n", "alpha==1.0")
    rounds, hits = 15, 0
    for n in range(rounds):
        pip(venv, *(["install", "eta"] if n % 2 == 0 else ["uninstall", "-y", "eta"]))
        hits += _append_when_syncing(daemon, project, req, f"# note {n}\n")
        daemon.idle()
    text = req.read_text()
    lost = [n for n in range(rounds) if f"# note {n}\n" not in text]
    print(f"{hits} of {rounds} notes were saved while the daemon said syncing; lost: {lost}")
    assert not lost, text
    assert ("eta==1.0" in text) == (rounds % 2 == 1)
    assert _state(daemon, project) == "in-sync"
    assert hits >= 3, f"only {hits} rounds caught the daemon syncing: the test lost its point"


# ---- a file saved in two chunks -------------------------------------------------------------


def test_save_in_two_chunks_uninstalls_nothing(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv, req, daemon = watched(daemon_factory, project, tmp_path, FIVE, *FIVE.split())
    seen = Sampler(lambda: installed_names(venv))
    try:
        with open(req, "w") as f:  # truncates: the file holds one line for a while
            f.write("alpha==1.0\n")
            f.flush()
            time.sleep(1.5)  # the writer's pause (longer than settle) is the scenario
            f.write(FIVE.removeprefix("alpha==1.0\n") + "zeta.dots==1.0\n")
        wait_for(lambda: "zeta_dots" in installed_names(venv), 60, "zeta.dots installed")
        daemon.idle()
    finally:
        samples = seen.stop()
    assert _uninstalls(daemon) == [], daemon.output()
    missing = [set(FIVE_NAMES) - s for s in samples if isinstance(s, set)]
    assert not any(missing), [m for m in missing if m][:3]
    assert daemon.output().count("+zeta.dots==1.0") == 1, daemon.output()
    assert _state(daemon, project) == "in-sync"
    assert req.read_text() == FIVE + "zeta.dots==1.0\n"


# ---- an emptied file --------------------------------------------------------------------------


def _empty(req: Path, how: str) -> None:
    if how == "truncate":
        run(["sh", "-c", ': > "$1"', "sh", req])
    else:
        req.write_text("\n  \n\t\n")


def _journal_contents(project: Path) -> list[bytes]:
    found = entries(project_state_dir(locations().state_dir, project))
    return [entry.content.read_bytes() for entry in found]


@pytest.mark.parametrize("how", ["truncate", "whitespace"])
def test_emptied_file_is_held_and_undo_brings_it_back(
    project: Path,
    daemon_factory: list[DaemonProcess],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    text = "# app\nbeta==1.0\ndelta==1.0\neta==1.0\n"
    venv, req, daemon = watched(daemon_factory, project, tmp_path, text, "beta", "delta", "eta")
    before = pip_freeze(venv)
    _empty(req, how)
    shown = daemon.idle()["projects"][0]
    assert pip_freeze(venv) == before, "packages were uninstalled for an emptied file"
    assert shown["state"] == "held", shown
    assert "venvsyncd allow" in shown["message"]
    capsys.readouterr()
    assert main(["history", str(project)]) == 0
    assert "#" in capsys.readouterr().out
    assert text.encode() in _journal_contents(project)
    assert main(["undo", str(project)]) == 0
    assert req.read_text() == text
    wait_for(lambda: _state(daemon, project) == "in-sync", 30, "in-sync after undo")
    daemon.idle()
    assert req.read_text() == text
    assert pip_freeze(venv) == before
    assert installer_runs(daemon) == 0


def test_emptied_file_is_applied_after_allow(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    text = "delta==1.0\neta==1.0\ngamma==1.0\n"  # no dependencies: all of them go
    venv, req, daemon = watched(daemon_factory, project, tmp_path, text, *text.split())
    before = pip_freeze(venv)
    _empty(req, "truncate")
    daemon.idle()
    assert pip_freeze(venv) == before, "packages were uninstalled for an emptied file"
    assert _state(daemon, project) == "held"
    assert main(["allow", str(project)]) == 0
    wait_for(lambda: not installed_names(venv) & {"delta", "eta", "gamma"}, 60, "uninstalled")
    shown = daemon.idle()["projects"][0]
    assert shown["state"] == "in-sync", shown
    assert req.read_text() == ""
    assert pip_freeze(venv) == ""


# ---- `pip freeze > requirements.txt`, the shell holding the emptied file open -----------------


def test_slow_pip_freeze_into_the_file_uninstalls_nothing(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    text = "# app\nbeta==1.0\ngamma==1.0\n"
    venv, req, daemon = watched(daemon_factory, project, tmp_path, text, "beta", "gamma")
    before = pip_freeze(venv)
    names = installed_names(venv)

    def look() -> tuple[str, set[str]]:
        return _state(daemon, project), installed_names(venv)

    seen = Sampler(look, step=0.02)
    try:
        slow = f"sleep 2; exec {shlex.quote(str(venv.python))} -m pip freeze"
        run(["sh", "-c", f"sh -c {shlex.quote(slow)} > {shlex.quote(str(req))}"])
        shown = daemon.idle()["projects"][0]
    finally:
        samples = seen.stop()
    looks = [s for s in samples if isinstance(s, tuple)]
    assert all(installed >= names for _, installed in looks), "packages were uninstalled"
    assert pip_freeze(venv) == before
    assert "held" not in {state for state, _ in looks}
    assert req.read_text() == text  # the user's comment is back, the freeze applied
    assert shown["state"] == "in-sync", shown
    assert installer_runs(daemon) == 0, daemon.output()
    assert "pip freeze" in (shown["last_change"] or "")
    assert main(["undo", str(project)]) == 0  # the bare freeze, if that was really wanted
    assert req.read_text() == before
    assert daemon.idle()["projects"][0]["state"] == "in-sync"
    assert req.read_text() == before  # and it stays


# ---- a removed line another package still needs -----------------------------------------------


def test_removed_line_of_a_needed_package_keeps_it(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv, req, daemon = watched(
        daemon_factory, project, tmp_path, "beta==1.0\nalpha==1.0\n", "beta==1.0", "alpha==1.0"
    )
    req.write_text("beta==1.0\n")
    shown = daemon.idle()["projects"][0]
    assert "alpha" in installed_names(venv), "alpha was uninstalled though beta requires it"
    assert "required by beta" in (shown["last_change"] or ""), shown
    assert shown["state"] == "in-sync", shown
    assert main(["sync", str(project), "--check"]) == 0
    assert main(["diff", str(project)]) == 0
    assert shown.get("broken") == [], shown


# ---- the config file edited by hand -------------------------------------------------------


def _project_with(folder: Path, text: str, *packages: str) -> Path:
    folder.mkdir()
    make_venv(folder / ".venv", *packages)
    (folder / "requirements.txt").write_text(text)
    return folder


def _listed(daemon: DaemonProcess) -> set[str]:
    projects: list[dict[str, Any]] = daemon.status()["projects"]
    return {p["path"] for p in projects}


def _configured(config: Path, *projects: Path) -> str:
    return config.read_text() + "".join(f'\n[[project]]\npath = "{p}"\n' for p in projects)


def _atomic_write(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.new")
    temp.write_text(text)
    os.replace(temp, path)


def test_config_edited_by_hand_adds_a_project_without_reload(
    config: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    a = _project_with(tmp_path / "a", "alpha==1.0\n", "alpha==1.0")
    b = _project_with(tmp_path / "b", "eta==1.0\n", "eta==1.0")
    config.write_text(_configured(config, a))
    daemon = start(daemon_factory, tmp=tmp_path)  # its projects come from the config alone
    daemon.idle()
    assert _listed(daemon) == {str(a)}
    with open(config, "a") as f:  # as an editor that saves in place would
        f.write(f'\n[[project]]\npath = "{b}"\n')
    wait_for(lambda: str(b) in _listed(daemon), 15, "the hand-added project in status")
    assert _listed(daemon) == {str(a), str(b)}
    shown = daemon.idle()
    assert {p["state"] for p in shown["projects"]} == {"in-sync"}, shown


def _config_lines(daemon: DaemonProcess, config: Path) -> int:
    """Log lines that name the config file and the bad key."""
    return sum(str(config) in ln and "mode" in ln for ln in daemon.output().splitlines())


def _a_bad_config(
    config: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> tuple[DaemonProcess, set[str]]:
    a = _project_with(tmp_path / "a", "alpha==1.0\n", "alpha==1.0")
    b = _project_with(tmp_path / "b", "eta==1.0\n", "eta==1.0")
    config.write_text(_configured(config, a, b))
    daemon = start(daemon_factory, tmp=tmp_path)
    daemon.idle()
    _atomic_write(
        config, config.read_text().replace("[daemon]", '[defaults]\nmode = "nope"\n\n[daemon]')
    )
    return daemon, {str(a), str(b)}


def test_bad_config_edit_is_logged_and_the_projects_are_kept(
    config: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    daemon, both = _a_bad_config(config, daemon_factory, tmp_path)
    wait_for(lambda: _config_lines(daemon, config), 15, "a log line naming the config and key")
    assert daemon.proc.poll() is None
    assert _listed(daemon) == both
    assert {p["state"] for p in daemon.idle()["projects"]} == {"in-sync"}


@pytest.mark.parametrize("how", ["reload", "sighup"])
def test_reload_of_a_bad_config_says_so(
    config: Path, daemon_factory: list[DaemonProcess], tmp_path: Path, how: str
) -> None:
    daemon, both = _a_bad_config(config, daemon_factory, tmp_path)
    with contextlib.suppress(AssertionError):  # a daemon that sees the edit logs it first
        wait_for(lambda: _config_lines(daemon, config), 5, "the edit noticed")
    logged = _config_lines(daemon, config)
    if how == "reload":
        assert main(["reload"]) == 2
    else:
        daemon.proc.send_signal(signal.SIGHUP)
        wait_for(
            lambda: _config_lines(daemon, config) > logged, 15, "a log line about SIGHUP's reload"
        )
    assert daemon.proc.poll() is None
    assert _listed(daemon) == both

"""State and log folders are the user's alone: what another user planted there is refused.

A real second Unix user (made with `useradd` for this module, removed after it, its home under
/tmp) pre-creates `$XDG_STATE_HOME/venvsyncd` mode 0777 in a shared folder, with the daemon's
log file a symlink to a file of the victim's and a journal entry of its own. The real daemon
and the real commands must refuse it, saying which folder and what to do, and write nothing:
not through the symlink, not into the planted folder, not the planted entry into the project.
And after a normal run, everything venvsyncd keeps is 0600 in folders 0700.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from testing.daemonproc import DaemonProcess, wait_for
from testing.venvs import make_venv, pip
from venvsyncd.cli import main
from venvsyncd.engine.snapshot import project_state_dir
from venvsyncd.paths import locations

PLANTED = b"# planted by another user\nplanted-package==6.6.6\n"
MINE = "mine: not venvsyncd's to write\n"
PLANT = r"""
set -e
umask 000
mkdir -m 777 "$STATE" "$STATE/log"
ln -s "$VICTIM" "$STATE/log/venvsyncd.log"
mkdir -p -m 777 "$JOURNAL"
printf '%s' "$CONTENT" > "$JOURNAL/000001.bytes"
printf '%s' "$META" > "$JOURNAL/000001.json"
"""


class OtherUser(NamedTuple):
    name: str
    uid: int
    gid: int
    base: Path  # a folder under /tmp both users can reach: the other user's home is in it


@pytest.fixture(scope="module")
def other_user() -> Iterator[OtherUser]:
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("needs root: it creates a second Unix user (useradd) to plant folders")
    useradd, userdel = shutil.which("useradd"), shutil.which("userdel")
    if useradd is None or userdel is None:
        pytest.skip("needs useradd and userdel to create a second Unix user")
    base = Path(tempfile.mkdtemp(prefix="venvsyncd-other-user-"))
    base.chmod(0o755)
    name = f"vsd-other-{os.getpid()}"
    made = subprocess.run(
        [useradd, "--system", "--user-group", "--no-create-home", "--home-dir",
         str(base / "home"), "--shell", "/bin/sh", name],
        capture_output=True, text=True,
    )  # fmt: skip
    if made.returncode != 0:
        shutil.rmtree(base)
        pytest.skip(f"useradd could not create a second user: {made.stderr.strip()}")
    try:
        entry = pwd.getpwnam(name)
        (base / "home").mkdir(mode=0o700)
        os.chown(base / "home", entry.pw_uid, entry.pw_gid)
        yield OtherUser(name, entry.pw_uid, entry.pw_gid, base)
    finally:
        subprocess.run([userdel, name], check=True, capture_output=True)
        shutil.rmtree(base)


class Planted(NamedTuple):
    state: Path  # $XDG_STATE_HOME/venvsyncd, the other user's, 0777
    victim: Path  # the victim's file the planted log symlink points at
    requirements: Path  # the victim's project's file the planted journal entry claims
    before: dict[str, tuple[int, int, bytes | str]]  # what the planted folder holds


def _holdings(folder: Path) -> dict[str, tuple[int, int, bytes | str]]:
    """Every path under `folder`: owner, mode, and content (a symlink's target)."""
    found: dict[str, tuple[int, int, bytes | str]] = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        what: bytes | str = b""
        if path.is_symlink():
            what = str(path.readlink())
        elif path.is_file():
            what = path.read_bytes()
        found[str(path.relative_to(folder))] = (info.st_uid, stat.S_IMODE(info.st_mode), what)
    return found


@pytest.fixture
def planted(
    other_user: OtherUser, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Planted:
    """The victim's state home is a shared folder (1777, as /tmp) where the other user already
    made `venvsyncd/` 0777, its log a symlink to the victim's file, and a journal entry."""
    shared = Path(tempfile.mkdtemp(prefix="shared-", dir=other_user.base))
    shared.chmod(0o1777)
    monkeypatch.setenv("XDG_STATE_HOME", str(shared))
    state = locations().state_dir
    assert state == shared / "venvsyncd"
    victim = tmp_path / "victim.txt"
    victim.write_text(MINE)
    requirements = project / "requirements.txt"
    requirements.write_text("alpha==1.0\n")
    meta = {"time": "2026-01-01T00:00:00Z", "file": str(requirements), "summary": "+alpha"}
    env = {
        "PATH": "/usr/bin:/bin",
        "STATE": str(state),
        "VICTIM": str(victim),
        "JOURNAL": str(project_state_dir(state, project) / "journal"),
        "CONTENT": PLANTED.decode(),
        "META": json.dumps(meta),
    }
    subprocess.run(
        ["/bin/sh", "-c", PLANT],
        env=env, user=other_user.uid, group=other_user.gid, extra_groups=[], check=True,
    )  # fmt: skip
    assert state.stat().st_uid == other_user.uid
    return Planted(state, victim, requirements, _holdings(state))


def _nothing_written(planted: Planted) -> None:
    assert planted.victim.read_text() == MINE  # nothing through the log symlink
    assert planted.requirements.read_text() == "alpha==1.0\n"  # the planted entry not restored
    assert _holdings(planted.state) == planted.before  # nothing made or changed in it


def _refusal(planted: Planted, other_user: OtherUser) -> str:
    return (
        f"venvsyncd: error: {planted.state} belongs to another user "
        f"({other_user.name}, uid {other_user.uid})"
    )


def test_the_daemon_refuses_to_start_in_a_state_folder_another_user_made(
    planted: Planted,
    other_user: OtherUser,
    project: Path,
    daemon_factory: list[DaemonProcess],
    tmp_path: Path,
) -> None:
    daemon = DaemonProcess(project, log=tmp_path / "daemon.log")
    daemon_factory.append(daemon)
    assert daemon.proc.wait(60) == 1
    said = daemon.output()
    assert _refusal(planted, other_user) in said
    assert "\nhint: trust nothing in it" in said
    assert "Traceback" not in said
    _nothing_written(planted)


@pytest.mark.parametrize("command", ["undo", "history", "sync", "add"])
def test_commands_refuse_the_planted_state_folder(
    planted: Planted,
    other_user: OtherUser,
    project: Path,
    config: Path,
    command: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_text = config.read_text()
    assert main([command, str(project)]) == 1
    out, err = capsys.readouterr()
    assert _refusal(planted, other_user) in err
    assert "planted" not in out + err  # the planted entry is not even listed
    assert "Traceback" not in err
    assert config.read_text() == config_text  # `add` saves nothing it could not journal
    _nothing_written(planted)


def test_the_daemon_refuses_a_log_file_that_is_a_symlink(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    """Even in the user's own log folder: the daemon writes no log through a symlink."""
    victim = tmp_path / "victim.txt"
    victim.write_text(MINE)
    log_dir = locations().log_dir
    log_dir.mkdir(parents=True)
    (log_dir / "venvsyncd.log").symlink_to(victim)
    daemon = DaemonProcess(project, log=tmp_path / "daemon.log")
    daemon_factory.append(daemon)
    assert daemon.proc.wait(60) == 1
    said = daemon.output()
    assert f"venvsyncd: error: {log_dir / 'venvsyncd.log'} is a symlink" in said
    assert "\nhint: remove it" in said and "Traceback" not in said
    assert victim.read_text() == MINE


@pytest.mark.slow
def test_after_a_normal_run_all_venvsyncd_keeps_is_the_users_alone(
    project: Path, config: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    venv = make_venv(project / ".venv", "alpha==1.0")
    requirements = project / "requirements.txt"
    requirements.write_text("alpha==1.0\n")
    old = os.umask(0o002)  # a umask that leaves group-writable files (Debian's users')
    try:
        assert main(["add", str(project)]) == 0  # keeps the config it replaces
    finally:
        os.umask(old)
    daemon = DaemonProcess(log=tmp_path / "daemon.log", preexec_fn=lambda: os.umask(0o002))
    daemon_factory.append(daemon)
    daemon.ready()
    daemon.idle()
    pip(venv, "install", "beta")
    wait_for(lambda: "beta==1.0" in requirements.read_text(), 60, "beta in the file")
    daemon.idle()
    daemon.stop()
    assert daemon.proc.returncode == 0, daemon.output()
    locs = locations()
    loose, names = [], set()
    for top in {locs.state_dir, locs.log_dir}:
        for folder, _, files in os.walk(top):
            loose += [f"{folder} {_mode(Path(folder)):04o}"] * (_mode(Path(folder)) != 0o700)
            for name in files:
                names.add(name)
                path = Path(folder, name)
                loose += [f"{path} {_mode(path):04o}"] * (_mode(path) != 0o600)
    assert loose == []
    expected = {"venvsyncd.log", "lock", "snapshot.json", "000001.bytes", "000001.json"}
    assert expected <= names  # the state, a journal entry (config's, project's) and the log


def _mode(path: Path) -> int:
    info = path.lstat()
    assert not stat.S_ISLNK(info.st_mode), f"{path} is a symlink"
    return stat.S_IMODE(info.st_mode)

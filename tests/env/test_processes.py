"""processes.py: whose pip-like processes count as installers on our venv.

The processes are real ones with pip's command line on the venv
(`<venv>/bin/python -s -- -m pip install alpha`): `/bin/sh` started under that argv[0], which
waits on its stdin until the test closes it, so no pip runs and any user may run it. A second
Unix user is made with `useradd` for the session of this module (root only) and removed after.
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import psutil
import pytest

from testing.venvs import run
from venvsyncd.env import processes
from venvsyncd.env.busy import install_in_progress
from venvsyncd.env.processes import SCAN_REUSE, installer_processes, installer_target
from venvsyncd.env.venvs import Venv, load_venv

LATER = time.time() + 3600.0  # nothing on disk is fresh: only processes can make a venv busy


class User(NamedTuple):
    name: str
    uid: int
    gid: int


@pytest.fixture(scope="module")
def other_user() -> Iterator[User]:
    """A second Unix user, made for these tests and removed after (needs root)."""
    if os.geteuid() != 0:
        pytest.skip("making a second Unix user (useradd) needs root; CI runs the tests as root")
    if shutil.which("useradd") is None or shutil.which("userdel") is None:
        pytest.skip("useradd/userdel are not installed (Debian: the passwd package)")
    name = f"vsd-test-{os.getpid()}"
    shell = "/usr/sbin/nologin"
    run(["useradd", "--system", "--no-create-home", "--shell", shell, name])
    try:
        entry = pwd.getpwnam(name)
        yield User(name, entry.pw_uid, entry.pw_gid)
    finally:
        subprocess.run(["userdel", name], capture_output=True, check=False)


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "v"])
    return load_venv(tmp_path / "v")


def pip_argv(venv: Venv) -> list[str]:
    return [str(venv.root / "bin" / "python"), "-s", "--", "-m", "pip", "install", "alpha"]


def pip_like(venv: Venv, user: User | None = None) -> subprocess.Popen[bytes]:
    """A process, of `user` or ours, whose command line is pip installing into `venv`."""
    as_user: dict[str, Any] = {}
    if user is not None:
        as_user = {"user": user.uid, "group": user.gid, "extra_groups": []}
    proc = subprocess.Popen(
        pip_argv(venv), executable="/bin/sh", stdin=subprocess.PIPE, cwd="/", **as_user
    )
    deadline = time.monotonic() + 10
    while _cmdline(proc.pid) != pip_argv(venv):  # exec'd, with the argv that pip would have
        assert proc.poll() is None, f"{pip_argv(venv)} exited {proc.returncode}"
        assert time.monotonic() < deadline, f"pid {proc.pid} never showed pip's command line"
        time.sleep(0.01)
    return proc


def _cmdline(pid: int) -> list[str] | None:
    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return None


def end(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()  # /bin/sh reads end of input and exits
        proc.wait(10)


def test_our_pip_on_the_venv_counts(venv: Venv, tmp_path: Path) -> None:
    other_venv = dataclasses.replace(venv, root=tmp_path / "elsewhere")
    ours = pip_like(venv)
    try:
        assert installer_processes(venv) == [ours.pid]
        assert installer_processes(venv, exclude=[ours.pid]) == []
        assert installer_processes(other_venv) == []
        assert install_in_progress(venv, fresh_after=LATER) == (
            f"pip or uv process {ours.pid} runs on this venv"
        )
    finally:
        end(ours)
    assert installer_processes(venv) == []


def test_another_users_pip_on_our_venv_does_not_count(venv: Venv, other_user: User) -> None:
    theirs = pip_like(venv, other_user)
    try:
        # the system shows it as theirs, and by its command line it installs into our venv:
        # only who runs it keeps it out
        info = psutil.Process(theirs.pid)
        assert info.uids().effective == other_user.uid != os.geteuid()
        target = installer_target(info.cmdline(), "/", {})
        assert target is not None and Path(target).parent == venv.root / "bin"
        assert installer_processes(venv) == []
        assert install_in_progress(venv, fresh_after=LATER) is None
        ours = pip_like(venv)
        try:
            assert installer_processes(venv) == [ours.pid]
        finally:
            end(ours)
        assert installer_processes(venv) == []  # theirs still runs, and still does not count
        assert theirs.poll() is None
    finally:
        end(theirs)


def test_a_pip_started_right_after_a_look_is_seen_at_once(venv: Venv) -> None:
    """Within SCAN_REUSE of a full look at /proc only new processes are read: a pip that
    starts then is one of them, and one that ends is gone at once."""
    assert installer_processes(venv) == []  # a full look
    ours = pip_like(venv)
    try:
        assert installer_processes(venv) == [ours.pid]
    finally:
        end(ours)
    assert installer_processes(venv) == []


def pip_by_exec(venv: Venv) -> subprocess.Popen[bytes]:
    """A Python process that runs pip on `venv` by `exec` once told to (`run_pip`)."""
    code = f"import os, sys; sys.stdin.readline(); os.execv('/bin/sh', {pip_argv(venv)!r})"
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, cwd="/")


def run_pip(proc: subprocess.Popen[bytes], venv: Venv) -> None:
    """Tell a `pip_by_exec` process to exec, and wait until its command line is pip's."""
    assert proc.stdin is not None
    proc.stdin.write(b"go\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 10
    while _cmdline(proc.pid) != pip_argv(venv):
        assert time.monotonic() < deadline, "the process never ran pip's command line"
        time.sleep(0.01)


def test_a_young_process_that_becomes_pip_by_exec_is_seen(venv: Venv) -> None:
    """A process already there when /proc was read, that then runs pip by `exec` (same pid,
    new command line) while it is younger than YOUNG (a shell's child, a launcher), is read
    again by every look and found."""
    proc = pip_by_exec(venv)
    try:
        assert installer_processes(venv) == []  # it is not pip yet
        run_pip(proc, venv)
        deadline = time.monotonic() + SCAN_REUSE + 10
        while installer_processes(venv) != [proc.pid]:
            assert time.monotonic() < deadline, "the exec'd pip was never found"
            time.sleep(0.01)
    finally:
        end(proc)


def test_an_old_process_that_becomes_pip_waits_for_the_full_look(
    venv: Venv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quick look does not read the processes it saw more than YOUNG seconds ago (here:
    every process is old at once): one that runs pip by `exec` then is found by the full
    look, which the daemon makes every SCAN_REUSE seconds."""
    monkeypatch.setattr(processes, "YOUNG", 0.0)
    proc = pip_by_exec(venv)
    try:
        assert installer_processes(venv, full=True) == []
        run_pip(proc, venv)
        assert installer_processes(venv) == []  # a quick look: an old pid is not read again
        assert installer_processes(venv, full=True) == [proc.pid]
        assert installer_processes(venv) == [proc.pid]  # and then followed while it runs
    finally:
        end(proc)

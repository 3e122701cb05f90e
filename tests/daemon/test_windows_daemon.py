"""`venvsyncd run` on the real Windows CPython 3.13 under wine (testing/winehost.py).

venvsyncd and its dependencies (psutil and watchdog from their win_amd64 wheels) are installed
into the base `python.exe`; the project's venv is a Windows-layout one made there. The daemon
runs as a background Windows process; the commands that talk to it are Windows processes too,
so every request crosses the named pipe. Config, state, logs and the runtime folder lie under
the test's folder (`VENVSYNCD_CONFIG`, platformdirs' `WIN_PD_OVERRIDE_*` and the
`APPDATA`/`LOCALAPPDATA` they stand for).

What wine shows and what it does not: wine stores and reports a pipe's security descriptor
(checked below) but does not enforce it, and it ignores FILE_FLAG_FIRST_PIPE_INSTANCE; the
client's refusal of a pipe that another SID owns is shown, because wine lets a test create
one. A second Windows user is not there to be kept out.

A Windows program's output is read until it exits, not until its pipes close: the wine
services that the first program of a prefix starts inherit its stderr and keep it open.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from testing.daemonproc import wait_for
from testing.winehost import WindowsPython

pytestmark = [pytest.mark.windows, pytest.mark.slow]

STEP = 45.0  # seconds for one thing to happen (a wine python starts in about 1-2 s)
CRLF = b"\r\n"


class WinProject(NamedTuple):
    folder: Path  # the project; its venv is `.venv`, its file `requirements.txt`
    env: dict[str, str]  # the environment of every venvsyncd process of the test
    windows: WindowsPython

    @property
    def requirements(self) -> Path:
        return self.folder / "requirements.txt"

    @property
    def site_packages(self) -> Path:
        return self.folder / ".venv" / "Lib" / "site-packages"

    def command(self, args: Sequence[str | Path]) -> list[str]:
        """A Windows program under wine; Path arguments become `Z:\\...` paths."""
        win = self.windows
        return [win.wine, *(a if isinstance(a, str) else win.winpath(a) for a in args)]

    def venvsyncd(self, *args: str, timeout: float = STEP) -> subprocess.CompletedProcess[str]:
        """`python.exe -m venvsyncd ARGS`, waited for; its exit code is the caller's to judge."""
        return run_until_exit(
            self.command([self.windows.python, "-m", "venvsyncd", *args]), self.env, timeout
        )

    def python(self, script: str, *args: str | Path) -> Any:
        """Run `script` with the base python.exe (venvsyncd installed); its JSON stdout."""
        path = self.folder.parent / "script.py"  # beside the config
        path.write_text(script)
        proc = run_until_exit(self.command([self.windows.python, path, *args]), self.env, STEP)
        assert proc.returncode == 0, f"{script}\nexited {proc.returncode}:\n{proc.stderr}"
        return json.loads(proc.stdout)


def run_until_exit(
    command: Sequence[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run `command` with pipes (WINDOWS.md), reading its output until it has exited.

    Once more when wine itself could not start it: a wine process that starts while the
    prefix's wineserver is exiting (it does when its last process has ended) fails before
    the program runs, with only "wine client error:0: recvmsg: Connection reset by peer"
    (seen once in CI). Nothing of the program ran, so nothing is hidden by the retry."""
    done = _run_once(command, env, timeout)
    if done.returncode != 0 and not done.stdout and done.stderr.startswith("wine client error"):
        done = _run_once(command, env, timeout)
    return done


def _run_once(
    command: Sequence[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.close()
    output = {proc.stdout.fileno(): b"", proc.stderr.fileno(): b""}
    pending = list(output)
    deadline = time.monotonic() + timeout
    try:
        while pending:
            ready = select.select(pending, [], [], 0.05)[0]
            for fd in ready:
                data = os.read(fd, 65536)
                output[fd] += data
                if not data:
                    pending.remove(fd)
            if not ready and proc.poll() is not None:
                break  # exited, all it wrote is read; a wine service may hold the pipe open
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{command} still ran after {timeout} s")
        proc.wait(10)
    finally:
        proc.stdout.close()
        proc.stderr.close()
    out, err = (data.decode("utf-8", "replace") for data in output.values())
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


@pytest.fixture
def win_host(tmp_path: Path, windows_python: WindowsPython) -> WinProject:
    """venvsyncd in the base python.exe; a config naming the project `app` (not made here)."""
    windows_python.install_project(windows_python.base)
    folder = tmp_path / "app"
    config = tmp_path / "config.toml"
    project = windows_python.winpath(folder)
    config.write_text(
        f"[daemon]\nsettle_seconds = 0.5\ninstaller = \"pip\"\n\n[[project]]\npath = '{project}'\n"
    )
    local, roaming = windows_python.winpath(tmp_path / "Local"), windows_python.winpath(tmp_path)
    env = windows_python.env()
    env.update(
        VENVSYNCD_CONFIG=windows_python.winpath(config),
        LOCALAPPDATA=local,
        APPDATA=roaming,
        WIN_PD_OVERRIDE_LOCAL_APPDATA=local,  # platformdirs asks Windows, not these variables
        WIN_PD_OVERRIDE_APPDATA=roaming,
    )
    return WinProject(folder, env, windows_python)


@pytest.fixture
def win_project(win_host: WinProject) -> WinProject:
    """The project: alpha 1.0 in its Windows venv and in its requirements file."""
    venv = win_host.windows.make_venv(win_host.folder / ".venv")
    win_host.windows.pip(venv, "install", "alpha==1.0")
    win_host.requirements.write_bytes(b"alpha==1.0" + CRLF)  # as Windows writes it
    return win_host


@contextmanager
def daemon_running(project: WinProject) -> Iterator[subprocess.Popen[bytes]]:
    """`python.exe -m venvsyncd -v run` in the background; killed if the test leaves it running."""
    command = project.command([project.windows.python, "-m", "venvsyncd", "-v", "run"])
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=project.env,
    )
    assert proc.stdout is not None
    log: list[bytes] = []
    stdout = proc.stdout
    threading.Thread(target=lambda: log.extend(iter(stdout.readline, b"")), daemon=True).start()
    try:
        yield proc
    except BaseException:
        print("the daemon's output:\n" + b"".join(log).decode("utf-8", "replace"))
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def status_when(project: WinProject, good: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """`status --json` over the pipe, asked until its reply is `good`."""

    def reply() -> dict[str, Any] | None:
        proc = project.venvsyncd("status", "--json")
        if proc.returncode not in (0, 1):  # 3: not running (yet); the rest is a failure
            assert proc.returncode == 3, f"status exited {proc.returncode}:\n{proc.stderr}"
            return None
        answer: dict[str, Any] = json.loads(proc.stdout)
        return answer if good(answer) else None

    result: dict[str, Any] = wait_for(reply, STEP, "a status reply", step=0.1)
    return result


def in_sync(reply: dict[str, Any]) -> bool:
    return [p["state"] for p in reply["projects"]] == ["in-sync"]


PIPE_SECURITY = """
import ctypes, json, _winapi
from ctypes import wintypes
from venvsyncd.paths import locations
from venvsyncd.wire import pipes, win32

name = pipes.pipe_name(locations().socket)
handle = _winapi.CreateFile(name, 0x80000000, 0, 0, 3, 0, 0)  # GENERIC_READ has READ_CONTROL
advapi32 = ctypes.WinDLL("advapi32")
advapi32.GetSecurityInfo.argtypes = [wintypes.HANDLE, ctypes.c_int, wintypes.DWORD]
advapi32.GetSecurityInfo.argtypes += [ctypes.c_void_p] * 4 + [ctypes.POINTER(ctypes.c_void_p)]
descriptor, text = ctypes.c_void_p(), wintypes.LPWSTR()
assert advapi32.GetSecurityInfo(handle, 6, 1 | 4, None, None, None, None, descriptor) == 0
advapi32.ConvertSecurityDescriptorToStringSecurityDescriptorW(
    descriptor, 1, 1 | 4, ctypes.byref(text), None
)
_winapi.CloseHandle(handle)
print(json.dumps({"sddl": text.value, "sid": win32.user_sid()}))
"""


def test_daemon_syncs_both_ways_over_its_named_pipe(win_project: WinProject) -> None:
    with daemon_running(win_project) as daemon:
        reply = status_when(win_project, in_sync)
        assert reply["projects"][0]["path"] == win_project.windows.winpath(win_project.folder)

        security = win_project.python(PIPE_SECURITY)  # only this user's SID, nothing inherited
        assert security["sddl"] == f"O:{security['sid']}D:P(A;;GA;;;{security['sid']})"

        second = win_project.venvsyncd("run")  # one daemon per user: the lock file says so
        assert second.returncode == 1, second.stderr

        win_project.windows.pip(win_project.folder / ".venv", "install", "beta")
        wanted = b"alpha==1.0" + CRLF + b"beta==1.0" + CRLF
        wait_for(lambda: win_project.requirements.read_bytes() == wanted, STEP, "beta in the file")

        with win_project.requirements.open("ab") as file:
            file.write(b"delta==1.0" + CRLF)
        delta = win_project.site_packages / "delta-1.0.dist-info" / "RECORD"
        wait_for(delta.is_file, STEP, "delta installed in the venv")
        status_when(win_project, in_sync)

        stop = win_project.venvsyncd("stop")
        assert stop.returncode == 0, stop.stderr
        assert daemon.wait(STEP) == 0
    gone = win_project.venvsyncd("status")
    assert gone.returncode == 3, gone.stderr  # no pipe: the daemon is not running


PIP_LIKE = """
import dataclasses, json, subprocess, sys, time
from pathlib import Path
from venvsyncd.env.processes import installer_processes
from venvsyncd.env.venvs import load_venv

venv = load_venv(Path(sys.argv[1]))
elsewhere = dataclasses.replace(venv, root=venv.root.parent / "elsewhere")
python = str(venv.root / "Scripts" / "python.exe")  # what pip's launcher runs
argv = [python, "-c", "import sys; sys.stdin.read()", "-m", "pip", "install", "alpha"]
child = subprocess.Popen(argv, stdin=subprocess.PIPE)
found, deadline = [], time.monotonic() + 30
while child.pid not in found and time.monotonic() < deadline:
    found = installer_processes(venv)
result = {"child": child.pid, "found": found, "elsewhere": installer_processes(elsewhere)}
child.stdin.close()
child.wait()
result["after"] = installer_processes(venv)
print(json.dumps(result))
"""


def test_pip_on_the_venv_is_seen_as_an_installer(win_project: WinProject) -> None:
    seen = win_project.python(PIP_LIKE, win_project.folder / ".venv")
    assert seen["found"] == [seen["child"]]
    assert seen["elsewhere"] == []
    assert seen["after"] == []


SQUATTER = """
import _winapi, json
from venvsyncd.errors import DaemonNotRunning, VenvsyncdError
from venvsyncd.paths import locations
from venvsyncd.wire import client, pipes, win32

where = locations().socket
result = {"no_pipe": client.ping(where)}
squatter = win32.SecurityAttributes("O:SYD:(A;;GA;;;WD)")  # SYSTEM's, open to everyone
mode = _winapi.PIPE_ACCESS_DUPLEX | _winapi.FILE_FLAG_OVERLAPPED
pipe = _winapi.CreateNamedPipe(pipes.pipe_name(where), mode, 0, 1, 4096, 4096, 0, squatter.address)
try:
    client.ping(where)
except DaemonNotRunning as exc:
    result["squatted"] = ["not running", exc.message]
except VenvsyncdError as exc:
    result["squatted"] = ["refused", exc.message]
print(json.dumps(result))
"""


def test_a_pipe_of_our_name_that_another_sid_owns_is_refused(win_host: WinProject) -> None:
    result = win_host.python(SQUATTER)
    assert result["no_pipe"] is None  # a missing pipe: no daemon
    verdict, message = result["squatted"]
    assert verdict == "refused" and "permission denied" in message


IPC_SERVER = """
import json, sys, threading, time
from pathlib import Path
from venvsyncd.errors import VenvsyncdError
from venvsyncd.wire import client, pipes
from venvsyncd.wire.server import IpcServer

path = Path(sys.argv[1]) / "venvsyncd.sock"
entered, release = threading.Event(), threading.Event()

def block(message):
    entered.set()
    release.wait(20)
    return {"released": True}

handlers = {"echo": lambda message: {"echo": message}, "block": block}
result = {}
with IpcServer(path, handlers, max_connections=1, request_timeout=0.5) as server:
    server.start()
    blob = "x" * 300_000  # several times a pipe buffer, both ways
    result["echoed"] = len(client.request(path, "echo", 10.0, blob=blob)["echo"]["blob"])
    for _ in range(100):  # the echo's slot is given back just after its reply: until then, busy
        with pipes.connect(pipes.pipe_name(path), 5.0) as silent:  # asks nothing
            line = client.read_frame(silent, 1 << 20, time.monotonic() + 10)
            result["silent"] = client.decode_frame(line)
        if result["silent"].get("error") != "busy":
            break
        time.sleep(0.05)
    blocked = threading.Thread(target=lambda: result.update(client.request(path, "block")))
    blocked.start()
    entered.wait(10)
    try:
        client.request(path, "echo", 0.5)
    except VenvsyncdError as exc:
        result["busy"] = exc.message
    release.set()
    blocked.join(20)
result["after"] = client.ping(path)
print(json.dumps(result))
"""


def test_the_ipc_server_on_a_named_pipe(win_host: WinProject, tmp_path: Path) -> None:
    result = win_host.python(IPC_SERVER, tmp_path / "run")
    assert result["echoed"] == 300_000
    assert "no complete request within 0.5 s" in result["silent"]["error"]  # a read timed out
    assert result["busy"] == "busy"  # one connection slot, taken: a second pipe instance says so
    assert result["released"] is True
    assert result["after"] is None  # closed: no pipe left, no daemon


def test_a_powershell_file_goes_through_sync_on_windows(win_project: WinProject) -> None:
    """Windows PowerShell 5's `pip freeze > requirements.txt` writes UTF-16 LE with a BOM and
    CRLF; `venvsyncd sync` under the Windows Python keeps all of it, and the comment."""
    bom = b"\xff\xfe"
    text = "# made by PowerShell\r\nalpha==1.0\r\n"
    win_project.requirements.write_bytes(bom + text.encode("utf-16-le"))
    win_project.windows.pip(win_project.folder / ".venv", "install", "beta==1.0")
    done = win_project.venvsyncd(
        "sync", str(win_project.windows.winpath(win_project.folder)), "--from", "env"
    )
    assert done.returncode == 0, done.stderr
    expected = bom + (text + "beta==1.0\r\n").encode("utf-16-le")
    assert win_project.requirements.read_bytes() == expected

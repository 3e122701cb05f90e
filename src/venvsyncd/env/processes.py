"""Which pip and uv processes of this user act on a venv (psutil: Linux, macOS, Windows).

pip takes no lock on the env, so a running pip is found by its command line: the venv's own
`bin/python*` or `Scripts\\python.exe` (pip's shebang or launcher) or `-m pip`/`pip` with a
`--python`/`--prefix`/`--target` that points into the venv; uv by
`uv pip install|uninstall|sync` with `--python`, `VIRTUAL_ENV` or the current folder's `.venv`.
Only processes running as this user count: another user's process whose command line names
our venv keeps no project pending (it cannot write the venv as us, and it must not be able to
hold our syncs back).

The daemon asks this before every sync and between rounds, for each project, and a machine
may run thousands of processes (reading each one's command line costs about 25 us: 50 ms at
2,000). On Linux /proc is read directly (one read of each command line; owner, cwd and
environment only for the few that look like an installer). A full look reads every process;
for SCAN_REUSE seconds after it, a look lists /proc and reads only the processes it has not
seen, those first seen less than YOUNG seconds ago again (a shell or a launcher forks, and
the child runs pip by `exec` a moment later), and the installers found, to see that they
still run. A process older than that which then runs pip by `exec`, or a pip that takes the
pid of one that ended since the full look, is seen at the next full look; meanwhile the
on-disk check (`busy.site_packages_busy`) sees what such a pip writes.
"""

# str paths and os calls on purpose: command lines hold strings, of either platform.
# ruff: noqa: PTH115, PTH118, PTH119, PTH120, PTH208

from __future__ import annotations

import itertools
import os
import re
import shutil
import sys
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from venvsyncd.env.venvs import Venv

if TYPE_CHECKING:
    import psutil

_PIP_SCRIPT = re.compile(r"pip[0-9.]*(\.exe)?$|pip(-[0-9.]+)?\.pyz$", re.IGNORECASE)


_PIP_VERBS = frozenset({"install", "uninstall"})


_UV_VERBS = frozenset({"install", "uninstall", "sync"})


_SHELLS = frozenset({"sh", "bash", "dash", "zsh"})  # pip's `/bin/sh` shebang for long paths


SCAN_REUSE = 5.0  # seconds after a full look at /proc in which only new pids are read
YOUNG = 2.0  # seconds after a pid is first seen in which every look reads it again


class Installer(NamedTuple):
    """A process of this user that runs pip or uv, and the path it acts on."""

    pid: int
    argv: tuple[str, ...]
    target: str


class _Look(NamedTuple):
    at: float  # time.monotonic() of the last full look
    seen: dict[str, float]  # the pids that look (and the quick ones since) read -> when first
    found: tuple[Installer, ...]


_looks: list[_Look] = []  # the last look at /proc


def installer_processes(
    venv: Venv, exclude: Collection[int] = (), *, full: bool = False
) -> list[int]:
    """Pids of this user's pip/uv install, uninstall or sync commands acting on `venv`;
    `full`: read every process now (on Linux; elsewhere every look is full)."""
    skip = {os.getpid(), *exclude}
    root = os.path.realpath(venv.root)
    found = _proc_installers(full) if sys.platform == "linux" else _psutil_installers()
    return sorted(i.pid for i in found if i.pid not in skip and _inside(i.target, root))


def _psutil_installers() -> list[Installer]:
    """Every process's command line; for the few that look like an installer, who runs it,
    then its cwd and environment, to see which venv it acts on."""
    import psutil

    me = _owner(psutil.Process())
    found = []
    for proc in psutil.process_iter():
        argv = _cmdline(proc)
        if argv is None or not _names_installer(argv) or proc.pid == os.getpid():
            continue
        owner = _owner(proc)
        if owner is None or owner != me:  # another user's, or one we cannot tell
            continue
        target = installer_target(argv, _cwd(proc), _environ(proc))
        if target is not None:
            found.append(Installer(proc.pid, tuple(argv), target))
    return found


def _proc_installers(full: bool = False) -> tuple[Installer, ...]:
    """`_psutil_installers` from /proc: a full look every SCAN_REUSE seconds, else a quick one
    (see the module's docstring)."""
    now = time.monotonic()
    pids = [name for name in os.listdir("/proc") if name.isdigit()]
    if full or not _looks or now - _looks[0].at >= SCAN_REUSE:
        # when each pid was first seen: kept from the last look; the first look cannot tell,
        # and counts them all as old
        before = _looks[0].seen if _looks else {}
        seen = {pid: before.get(pid, now if _looks else now - YOUNG) for pid in pids}
        _looks[:] = [_Look(now, seen, tuple(_installers_among(pids)))]
        return _looks[0].found
    last = _looks[0]
    running = tuple(i for i in last.found if _proc_argv(str(i.pid)) == i.argv)
    seen = {pid: last.seen.get(pid, now) for pid in pids}  # the ended ones are forgotten
    fresh = [pid for pid in pids if now - seen[pid] < YOUNG]
    known = {str(i.pid) for i in running}
    found = running + tuple(_installers_among([pid for pid in fresh if pid not in known]))
    _looks[:] = [_Look(last.at, seen, found)]
    return found


def _installers_among(pids: list[str]) -> Iterator[Installer]:
    me = os.geteuid()
    for name in pids:
        if int(name) == os.getpid():
            continue
        argv = _proc_argv(name)
        if not argv or not _names_installer(argv) or _proc_euid(name) != me:
            continue
        folder = f"/proc/{name}"
        try:
            cwd = os.readlink(f"{folder}/cwd") or os.sep
        except OSError:
            cwd = os.sep
        environ = {}
        for pair in _read(f"{folder}/environ").split(b"\0"):
            key, sep, value = os.fsdecode(pair).partition("=")
            if sep:
                environ[key] = value
        target = installer_target(argv, cwd, environ)
        if target is not None:
            yield Installer(int(name), argv, target)


def _read(path: str) -> bytes:
    """A /proc file's bytes; b"" when the process is gone or not ours to read. (os.open and
    os.read: half the cost of `open()`, which counts with thousands of processes.)"""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:  # a zombie, or gone while we read
        pass
    finally:
        os.close(fd)
    return b"".join(chunks)


def _proc_argv(pid: str) -> tuple[str, ...] | None:
    """The command line as psutil reads it, when it could name pip (see `_cmdline`)."""
    data = _read(f"/proc/{pid}/cmdline")
    if b"pip" not in data and b"venv" not in data:
        return None
    # a process that rewrote its title (no final NUL): psutil splits on spaces then
    argv = data[:-1].split(b"\0") if data.endswith(b"\0") else data.split(b" ")
    args = tuple(os.fsdecode(arg) for arg in argv)
    return args if any("pip" in arg or arg == "venv" for arg in args) else None


def _proc_euid(pid: str) -> int | None:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(b"Uid:"):
            return int(line.split()[2])
    return None


def _owner(proc: psutil.Process) -> object:
    """Who `proc` runs as: its effective uid (POSIX), its `DOMAIN\\user` name (Windows); None
    when that cannot be read (a process gone, or one the system will not describe to us)."""
    import psutil

    try:
        if sys.platform == "win32":
            return proc.username()
        return proc.uids().effective
    except (psutil.Error, OSError):
        return None


def _cmdline(proc: psutil.Process) -> list[str] | None:
    import psutil

    try:
        argv = proc.cmdline()
    except (psutil.Error, OSError):  # gone, a zombie, or not ours to read
        return None
    # `pip install`, `uv pip install` and `-m ensurepip` say pip; `-m venv` makes a venv
    return argv if argv and any("pip" in arg or arg == "venv" for arg in argv) else None


def _cwd(proc: psutil.Process) -> str:
    import psutil

    try:
        return proc.cwd() or os.sep
    except (psutil.Error, OSError):
        return os.sep


def _environ(proc: psutil.Process) -> dict[str, str]:
    import psutil

    try:
        return dict(proc.environ())
    except (psutil.Error, OSError):  # another user's, or a process the system hides
        return {}


def _names_installer(argv: Sequence[str]) -> bool:
    if _makes_venv(argv) is not None:
        return True
    verbs = _UV_VERBS if _is_uv(argv) else _PIP_VERBS
    return any(arg in verbs for arg in argv[1:])


def _makes_venv(argv: Sequence[str]) -> str | None:
    """The venv a `python -m venv DIR` or `python -m ensurepip` (which `venv` runs to put pip
    in) is making, as written, else None: a venv being made is a venv being installed into."""
    args = list(argv[1:])
    for index, (flag, module) in enumerate(itertools.pairwise(args)):
        if flag.startswith("-") and flag.endswith("m") and module == "ensurepip":
            return argv[0]
        if flag.startswith("-") and flag.endswith("m") and module == "venv":
            folders = [a for a in args[index + 2 :] if not a.startswith("-")]
            return folders[-1] if folders else None
    return None


def _is_uv(argv: Sequence[str]) -> bool:
    return os.path.basename(argv[0]).lower() in ("uv", "uv.exe") and "pip" in argv[1:]


def _is_pip(argv: Sequence[str]) -> bool:
    args = list(argv[1:])
    if "-mpip" in args or any(a == "-m" and b == "pip" for a, b in itertools.pairwise(args)):
        return True
    script = os.path.basename(args[0]) if args else ""
    return bool(_PIP_SCRIPT.match(script)) or script == "__pip-runner__.py"


def installer_target(argv: Sequence[str], cwd: str, environ: Mapping[str, str]) -> str | None:
    """The path a pip/uv install command acts on (its interpreter or venv), else None.

    pip: its interpreter `argv[0]` (pip's shebang puts `<venv>/bin/python` there; a bare name
    is looked up on the process's PATH), or the pip script when `/bin/sh` runs it.
    uv: `--python`/`-p`, else `VIRTUAL_ENV`, else the nearest `.venv` upwards from its cwd.
    """
    if not argv or not _names_installer(argv):
        return None
    made = _makes_venv(argv)
    if made is not None:
        return os.path.normpath(os.path.join(cwd, made))
    if _is_uv(argv):
        return _uv_target(argv, cwd, environ)
    if not _is_pip(argv):
        return None
    first = argv[1] if os.path.basename(argv[0]) in _SHELLS else argv[0]
    if not os.path.dirname(first):  # a bare name, looked up on the process's PATH
        first = shutil.which(first, path=environ.get("PATH", "")) or first
    return os.path.normpath(os.path.join(cwd, first))


def _uv_target(argv: Sequence[str], cwd: str, environ: Mapping[str, str]) -> str | None:
    for arg, value in itertools.pairwise([*argv, ""]):
        if arg in ("--python", "-p") and value:
            return os.path.normpath(os.path.join(cwd, value))
        if arg.startswith("--python="):
            return os.path.normpath(os.path.join(cwd, arg.partition("=")[2]))
    if environ.get("VIRTUAL_ENV"):
        return os.path.normpath(os.path.join(cwd, environ["VIRTUAL_ENV"]))
    folder = Path(cwd)
    for parent in (folder, *folder.parents):
        if (parent / ".venv" / "pyvenv.cfg").is_file():
            return str(parent / ".venv")
    return None


def _inside(target: str, root: str) -> bool:
    """`target` (a venv, or a file in it such as its bin/python symlink) lies in `root`."""
    root = os.path.normcase(root)
    for path in (target, os.path.dirname(target)):
        real = os.path.normcase(os.path.realpath(path))
        if real == root or real.startswith(root + os.sep):
            return True
    return False

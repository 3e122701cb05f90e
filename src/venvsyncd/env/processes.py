"""Which pip and uv processes act on a venv (Linux: /proc; elsewhere none are seen).

pip takes no lock on the env, so a running pip is found by its command line: the venv's own
`bin/python*` (pip's shebang) or `-m pip`/`pip` with a `--python`/`--prefix`/`--target` that
points into the venv; uv by `uv pip install|uninstall|sync` with `--python`, `VIRTUAL_ENV` or
the current folder's `.venv`.
"""

# str paths and os calls on purpose: /proc is no place for Path.
# ruff: noqa: PTH115, PTH118, PTH119, PTH120, PTH208

from __future__ import annotations

import itertools
import os
import re
import shutil
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from venvsyncd.env.venvs import Venv

_PIP_SCRIPT = re.compile(r"pip[0-9.]*$|pip(-[0-9.]+)?\.pyz$")  # pip, pip3.11, pip.pyz


_PIP_VERBS = frozenset({"install", "uninstall"})


_UV_VERBS = frozenset({"install", "uninstall", "sync"})


_SHELLS = frozenset({"sh", "bash", "dash", "zsh"})  # pip's `/bin/sh` shebang for long paths


def installer_processes(venv: Venv, exclude: Collection[int] = ()) -> list[int]:
    """Pids of pip/uv install, uninstall or sync commands acting on `venv` (Linux; else []).

    Reads every /proc/PID/cmdline; only for the few that look like an installer does it read
    the process's cwd and (when permitted) environ to see which venv it acts on.
    """
    if not sys.platform.startswith("linux"):
        return []
    skip = {os.getpid(), *exclude}
    root = os.path.realpath(venv.root)
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in skip:
            continue
        argv = _cmdline(name)
        if argv is None or not _names_installer(argv):
            continue
        target = installer_target(argv, _cwd(name), _environ(name))
        if target is not None and _inside(target, root):
            found.append(int(name))
    return sorted(found)


def _cmdline(pid: str) -> list[str] | None:
    try:
        fd = os.open(f"/proc/{pid}/cmdline", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = os.read(fd, 1 << 17)
    except OSError:
        return None
    finally:
        os.close(fd)
    if b"pip" not in data:  # both `pip install` and `uv pip install` say pip
        return None
    return [os.fsdecode(arg) for arg in data.rstrip(b"\0").split(b"\0")]


def _cwd(pid: str) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return "/"


def _environ(pid: str) -> dict[str, str]:
    try:
        data = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # another user's process
        return {}
    pairs = (os.fsdecode(item).partition("=") for item in data.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def _names_installer(argv: Sequence[str]) -> bool:
    verbs = _UV_VERBS if _is_uv(argv) else _PIP_VERBS
    return any(arg in verbs for arg in argv[1:])


def _is_uv(argv: Sequence[str]) -> bool:
    return os.path.basename(argv[0]) in ("uv", "uv.exe") and "pip" in argv[1:]


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
    if _is_uv(argv):
        return _uv_target(argv, cwd, environ)
    if not _is_pip(argv):
        return None
    first = argv[1] if os.path.basename(argv[0]) in _SHELLS else argv[0]
    if os.sep not in first:
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
    for path in (target, os.path.dirname(target)):
        real = os.path.realpath(path)
        if real == root or real.startswith(root + os.sep):
            return True
    return False

"""Which pip and uv processes of this user act on a venv (psutil: Linux, macOS, Windows).

pip takes no lock on the env, so a running pip is found by its command line: the venv's own
`bin/python*` or `Scripts\\python.exe` (pip's shebang or launcher) or `-m pip`/`pip` with a
`--python`/`--prefix`/`--target` that points into the venv; uv by
`uv pip install|uninstall|sync` with `--python`, `VIRTUAL_ENV` or the current folder's `.venv`.
Only processes running as this user count: another user's process whose command line names
our venv keeps no project pending (it cannot write the venv as us, and it must not be able to
hold our syncs back).
"""

# str paths and os calls on purpose: command lines hold strings, of either platform.
# ruff: noqa: PTH118, PTH119, PTH120

from __future__ import annotations

import itertools
import os
import re
import shutil
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from venvsyncd.env.venvs import Venv

if TYPE_CHECKING:
    import psutil

_PIP_SCRIPT = re.compile(r"pip[0-9.]*(\.exe)?$|pip(-[0-9.]+)?\.pyz$", re.IGNORECASE)


_PIP_VERBS = frozenset({"install", "uninstall"})


_UV_VERBS = frozenset({"install", "uninstall", "sync"})


_SHELLS = frozenset({"sh", "bash", "dash", "zsh"})  # pip's `/bin/sh` shebang for long paths


def installer_processes(venv: Venv, exclude: Collection[int] = ()) -> list[int]:
    """Pids of this user's pip/uv install, uninstall or sync commands acting on `venv`.

    Reads every process's command line; only for the few that look like an installer does it
    ask who runs it, then its cwd and environment, to see which venv it acts on.
    """
    import psutil

    skip = {os.getpid(), *exclude}
    root = os.path.realpath(venv.root)
    me = _owner(psutil.Process())
    found = []
    for proc in psutil.process_iter():
        if proc.pid in skip:
            continue
        argv = _cmdline(proc)
        if argv is None or not _names_installer(argv):
            continue
        owner = _owner(proc)
        if owner is None or owner != me:  # another user's, or one we cannot tell
            continue
        target = installer_target(argv, _cwd(proc), _environ(proc))
        if target is not None and _inside(target, root):
            found.append(proc.pid)
    return sorted(found)


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

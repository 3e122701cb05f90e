"""Is pip or uv installing into a venv right now? The on-disk completion check of FACTS §4.

Nothing here runs a process or writes a file. `install_in_progress` answers with a short
reason while the venv is busy and None when it looks finished; the daemon acts only after
None plus a quiet second. "Fresh" means an mtime at or after the `fresh_after` the caller
passes (its last quiet point minus a margin), so old leftovers such as pip's deliberately
kept `~` stash directories do not keep a venv busy forever.
"""

# str paths and os calls on purpose: this runs on every event, and /proc is no place for Path.
# ruff: noqa: PTH115, PTH116, PTH118, PTH119, PTH120, PTH208

from __future__ import annotations

import csv
import itertools
import os
import re
import shutil
import stat
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from venvsyncd.venvs import Venv

SiteSignature = tuple[tuple[str, int, int], ...]
FileSignature = tuple[int, int, int]

_SIGNED = (".dist-info", ".egg-info", ".egg-link", ".pth")
_NO_RECORD = (".dist-info", ".egg-info", ".egg-link")
_PIP_SCRIPT = re.compile(r"pip[0-9.]*$|pip(-[0-9.]+)?\.pyz$")  # pip, pip3.11, pip.pyz
_PIP_VERBS = frozenset({"install", "uninstall"})
_UV_VERBS = frozenset({"install", "uninstall", "sync"})
_SHELLS = frozenset({"sh", "bash", "dash", "zsh"})  # pip's `/bin/sh` shebang for long paths

# RECORD path -> (its file_signature, the top-level names it claims); cleared when it grows big
_RECORD_TOPS: dict[str, tuple[FileSignature, frozenset[str]]] = {}
_CACHE_LIMIT = 20_000


class _Entry(NamedTuple):
    """One top-level entry of site-packages, as stat'ed once per check."""

    name: str
    path: str
    mtime_ns: int
    is_dir: bool


def install_in_progress(
    venv: Venv, *, fresh_after: float, exclude: Collection[int] = (), processes: bool = True
) -> str | None:
    """Why the venv looks mid-install, or None when it looks finished.

    Checks, cheapest first: uv's `<venv>/.lock`, then site-packages on disk, then (when
    `processes`) pip/uv processes acting on the venv other than our own and `exclude`.
    """
    if uv_lock_held(venv):
        return f"uv holds {venv.root / '.lock'}"
    reason = site_packages_busy(venv.site_packages, fresh_after=fresh_after)
    if reason is None and processes:
        pids = installer_processes(venv, exclude)
        if pids:
            return f"pip or uv process {pids[0]} runs on this venv"
    return reason


def site_packages_busy(site_packages: Path, *, fresh_after: float) -> str | None:
    """The on-disk part of the check: stash, tmp files, unfinished dist-infos, unclaimed names."""
    fresh_ns = int(fresh_after * 1e9)
    try:
        entries = _scan(str(site_packages))
    except (FileNotFoundError, NotADirectoryError):
        return f"{site_packages} is missing"
    fresh = [e for e in entries if e.mtime_ns >= fresh_ns]
    for entry in fresh:
        if entry.name.startswith("~"):
            return f"pip stash {entry.name} present"
    fresh_infos = [e for e in fresh if e.is_dir and e.name.endswith(".dist-info")]
    for entry in fresh_infos:
        reason = _unfinished(entry)
        if reason is not None:
            return reason
    return _unclaimed(entries, fresh, fresh_infos)


def _scan(directory: str) -> list[_Entry]:
    entries = []
    with os.scandir(directory) as listing:
        for item in listing:
            try:
                st = item.stat(follow_symlinks=False)
            except FileNotFoundError:  # removed while we listed: a stash being deleted
                continue
            entries.append(_Entry(item.name, item.path, st.st_mtime_ns, stat.S_ISDIR(st.st_mode)))
    return entries


def _unfinished(info: _Entry) -> str | None:
    """A fresh dist-info that pip or uv has not finished: tmp file, no INSTALLER, stale RECORD.

    Only fresh ones are looked into: creating or renaming a file inside a directory renews
    the directory's mtime, so an old dist-info cannot hold a new tmp file.
    """
    mtimes: dict[str, int] = {}
    try:
        with os.scandir(info.path) as listing:
            for item in listing:
                if item.name.endswith(".tmp") or item.name.startswith(".tmp"):
                    return f"a .tmp file in {info.name} ({item.name})"
                if item.name in ("INSTALLER", "RECORD"):
                    mtimes[item.name] = item.stat(follow_symlinks=False).st_mtime_ns
    except FileNotFoundError:
        return f"{info.name} vanished while being read"
    if "INSTALLER" not in mtimes:
        return f"{info.name} has no INSTALLER yet"
    if "RECORD" not in mtimes:
        return f"{info.name} has no RECORD yet"
    if mtimes["RECORD"] < mtimes["INSTALLER"]:
        return f"RECORD older than INSTALLER in {info.name}"
    return None


def _unclaimed(entries: list[_Entry], fresh: list[_Entry], fresh_infos: list[_Entry]) -> str | None:
    """A fresh top-level name no RECORD claims: files extracted before their dist-info exists.

    Fresh dist-infos' RECORDs are asked first and the rest only while a name is unclaimed;
    each RECORD's names are cached by its (mtime_ns, size, inode).
    """
    wanted = {e.name for e in fresh if e.name != "__pycache__" and not e.name.endswith(_NO_RECORD)}
    asked = {e.name for e in fresh_infos}
    infos = [e for e in entries if e.is_dir and e.name.endswith(".dist-info")]
    for info in itertools.chain(fresh_infos, (e for e in infos if e.name not in asked)):
        if not wanted:
            return None
        wanted -= _claimed(os.path.join(info.path, "RECORD"))
    if wanted:
        return f"top-level entry {min(wanted)!r} claimed by no RECORD"
    return None


def _claimed(record: str) -> frozenset[str]:
    signature = file_signature(record)
    if signature is None:
        return frozenset()
    hit = _RECORD_TOPS.get(record)
    if hit is not None and hit[0] == signature:
        return hit[1]
    if len(_RECORD_TOPS) > _CACHE_LIMIT:
        _RECORD_TOPS.clear()
    tops = record_tops(record)
    _RECORD_TOPS[record] = (signature, tops)
    return tops


def record_tops(record: str) -> frozenset[str]:
    """The top-level names (first path parts) a RECORD file lists; empty when unreadable."""
    try:
        with open(record, encoding="utf-8", errors="replace", newline="") as rows:
            lines = rows.read().splitlines()
    except OSError:
        return frozenset()
    tops = set()
    for line in lines:
        path = next(csv.reader([line]), [""])[0] if line.startswith('"') else line.split(",")[0]
        top = path.replace("\\", "/").split("/")[0]
        if top and top != ".." and not path.startswith("/"):
            tops.add(top)
    return frozenset(tops)


def uv_lock_held(venv: Venv) -> bool:
    """Whether someone holds `<venv>/.lock` (uv does for its whole run). Never creates it.

    Takes a non-blocking exclusive flock and releases it at once. A lock held by this very
    process through another open file (installer.venv_lock) counts as held too.
    """
    if sys.platform == "win32":
        return False
    import fcntl

    try:
        fd = os.open(venv.root / ".lock", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


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


def site_signature(venv: Venv) -> SiteSignature:
    """A cheap fingerprint of what is installed, for the periodic rescan.

    Sorted (name, mtime_ns, RECORD mtime_ns or -1) of the top-level dist-info, egg-info,
    egg-link and .pth entries; () when site-packages is missing.
    """
    rows = []
    try:
        listing = os.scandir(venv.site_packages)
    except (FileNotFoundError, NotADirectoryError):
        return ()
    with listing:
        for item in listing:
            if not item.name.endswith(_SIGNED):
                continue
            try:
                mtime = item.stat(follow_symlinks=False).st_mtime_ns
            except FileNotFoundError:
                continue
            record = file_signature(os.path.join(item.path, "RECORD"))
            rows.append((item.name, mtime, -1 if record is None else record[0]))
    return tuple(sorted(rows))


def venv_mark(venv: Venv) -> tuple[object, ...]:
    """Site-packages as it is now, cheaply: its mtime and `site_signature`. Two equal marks
    mean nothing was installed or removed in between."""
    try:
        return (os.stat(venv.site_packages).st_mtime_ns, site_signature(venv))
    except OSError:
        return ("unreadable venv",)


def file_signature(path: str | os.PathLike[str]) -> FileSignature | None:
    """(st_mtime_ns, st_size, st_ino) of `path`, or None when it does not exist."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino

"""Is pip or uv installing into a venv right now? The on-disk completion check
(README, "The daemon": what pip and uv leave on disk while they install).

Nothing here runs a process or writes a file. `install_in_progress` answers with a short
reason while the venv is busy and None when it looks finished; the daemon acts only after
None plus a quiet second. "Fresh" means an mtime at or after the `fresh_after` the caller
passes (its last quiet point minus a margin), so old leftovers such as pip's deliberately
kept `~` stash directories do not keep a venv busy forever.
"""

# str paths and os calls on purpose: this runs on every event, and /proc is no place for Path.
# ruff: noqa: PTH116, PTH118

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Collection, Sequence
from pathlib import Path

from venvsyncd.env.processes import installer_processes
from venvsyncd.env.scan import Entry, listing, shared_listing
from venvsyncd.env.venvs import Venv
from venvsyncd.system.locks import is_locked

SiteSignature = tuple[tuple[str, int, int], ...]
FileSignature = tuple[int, int, int]

_SIGNED = (".dist-info", ".egg-info", ".egg-link", ".pth")
_NO_RECORD = (".dist-info", ".egg-info", ".egg-link")

# RECORD path -> (its file_signature, the top-level names it claims); cleared when it grows big
_RECORD_TOPS: dict[str, tuple[FileSignature, frozenset[str]]] = {}
# metadata folder -> ((mtime_ns, ctime_ns, inode), its RECORD's mtime_ns or -1), for the mark
_RECORD_MTIMES: dict[str, tuple[tuple[int, int, int], int]] = {}
_CACHE_LIMIT = 20_000
RACY_NS = 1_000_000_000  # a folder changed this recently (ns) may change again unseen


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
        entries = listing(str(site_packages)).entries
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


def _unfinished(info: Entry) -> str | None:
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


def _unclaimed(
    entries: Sequence[Entry], fresh: list[Entry], fresh_infos: list[Entry]
) -> str | None:
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
    A lock held by this very process through another open file (installer.venv_lock)
    counts as held too."""
    return is_locked(venv.root / ".lock")


def site_signature(venv: Venv) -> SiteSignature:
    """A cheap fingerprint of what is installed, for the periodic rescan.

    Sorted (name, mtime_ns, RECORD mtime_ns or -1) of the top-level dist-info, egg-info,
    egg-link and .pth entries; () when site-packages is missing. A folder's RECORD is looked
    at again only when the folder changed (pip and uv write RECORD by creating it or by tmp +
    rename, both of which change the folder), and not within RACY_NS of such a change.
    """
    try:
        found = shared_listing(str(venv.site_packages)) or listing(str(venv.site_packages), _SIGNED)
    except (FileNotFoundError, NotADirectoryError):
        return ()
    rows = [
        (item.name, item.mtime_ns, _record_mtime(item, found.started) if item.is_dir else -1)
        for item in found.entries
        if item.name.endswith(_SIGNED)
    ]
    return tuple(sorted(rows))


def _record_mtime(item: Entry, started: int) -> int:
    folder, key = item.path, item.key[:3]
    kept = _RECORD_MTIMES.get(folder)
    if kept is not None and kept[0] == key:
        return kept[1]
    record = file_signature(os.path.join(folder, "RECORD"))
    mtime = -1 if record is None else record[0]
    if max(key[0], key[1]) < started - RACY_NS:
        if len(_RECORD_MTIMES) > _CACHE_LIMIT:
            _RECORD_MTIMES.clear()
        _RECORD_MTIMES[folder] = (key, mtime)
    return mtime


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

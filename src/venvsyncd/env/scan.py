"""One look at a folder (site-packages), shared by everything that reads it in one action.

The daemon's action on a project reads site-packages several times: the installer check's
on-disk part (`busy.site_packages_busy`), the venv's mark (`busy.venv_mark`), the `.pth`
files (`sitepath`), freeze and the dependency read (`freeze.installed`,
`deps.read_dependencies`). Inside `shared()` (the daemon's action thread wraps the check and
the sync in it), the first of them lists the folder with one `os.scandir` and an `lstat` of
each entry, and the others take that listing while the folder itself is unchanged: its
mtime, ctime and inode are the same (an entry made, removed or renamed changes them, as an
installer does) and its mtime was not within RACY_NS of the listing (a change in the same
clock tick would not show; COARSE_RACY_NS where timestamps are whole milliseconds or
worse). Outside `shared()`, every call lists the folder anew.

A listed entry's own stat (a `.dist-info` folder's) is what freeze and deps key their kept
metadata on, so metadata is read again only for the entries whose stat changed.
"""

# str paths and os calls on purpose: this runs on every action, and paths are strings here.
# ruff: noqa: PTH116

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Iterator
from typing import NamedTuple

# A folder changed this recently before it was listed may change again unseen (same tick).
# Timestamps that look coarse (whole milliseconds or worse: FAT, HFS+, old ext) get a second.
RACY_NS = 50_000_000
COARSE_RACY_NS = 2_000_000_000
StatKey = tuple[int, int, int, int]  # mtime_ns, ctime_ns, inode, size


class Entry(NamedTuple):
    """One entry of a listed folder, as `lstat` saw it."""

    name: str
    path: str
    mtime_ns: int
    key: StatKey
    is_dir: bool
    is_link: bool


class Listing(NamedTuple):
    folder: str
    folder_key: tuple[int, int, int]  # the folder's own mtime_ns, ctime_ns, inode
    started: int  # time.time_ns() just before the listing
    entries: tuple[Entry, ...]
    by_path: dict[str, Entry]


class _Shared(threading.local):
    depth = 0
    kept: dict[str, Listing] | None = None


_shared = _Shared()


@contextlib.contextmanager
def shared() -> Iterator[None]:
    """Within this block (on this thread), a folder is listed once while it stays unchanged."""
    if _shared.depth == 0:
        _shared.kept = {}
    _shared.depth += 1
    try:
        yield
    finally:
        _shared.depth -= 1
        if _shared.depth == 0:
            _shared.kept = None


def listing(folder: str, only: tuple[str, ...] = ()) -> Listing:
    """The folder's entries with their `lstat`; shared inside `shared()` while it is unchanged.
    `only`: just the entries whose names end so (a listing that is not shared).

    Raises what `os.scandir` raises (FileNotFoundError, NotADirectoryError, OSError).
    """
    kept = _shared.kept if not only else None
    if kept is not None:
        last = kept.get(folder)
        if last is not None and _still(last):
            return last
    found = _list(folder, only)
    if kept is not None:
        kept[folder] = found
    return found


def shared_listing(folder: str) -> Listing | None:
    """Inside `shared()`, `listing(folder)` (None when it cannot be listed); outside, None:
    the caller reads the folder as it always did."""
    if _shared.kept is None:
        return None
    try:
        return listing(folder)
    except OSError:
        return None


def key_of(found: Listing | None, path: str) -> StatKey | None:
    """`os.stat(path)`'s key (symlinks followed), from `found` (a listing of its folder) when
    it lists `path` and that is no symlink; None when `path` cannot be stat'ed."""
    entry = None if found is None else found.by_path.get(path)
    if entry is not None and not entry.is_link:
        return entry.key
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size


def _list(folder: str, only: tuple[str, ...] = ()) -> Listing:
    folder_key = _folder_key(folder)
    started = time.time_ns()
    entries = []
    with os.scandir(folder) as items:
        for item in items:
            if only and not item.name.endswith(only):
                continue
            try:
                st = item.stat(follow_symlinks=False)
            except FileNotFoundError:  # removed while we listed: a stash being deleted
                continue
            key = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)
            is_dir, is_link = stat.S_ISDIR(st.st_mode), stat.S_ISLNK(st.st_mode)
            entries.append(Entry(item.name, item.path, st.st_mtime_ns, key, is_dir, is_link))
    return Listing(folder, folder_key, started, tuple(entries), {e.path: e for e in entries})


def _folder_key(folder: str) -> tuple[int, int, int]:
    try:
        st = os.stat(folder)
    except OSError:
        return (-1, -1, -1)
    return st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _still(last: Listing) -> bool:
    """Is the folder as it was when `last` listed it, and was that listing safe to keep?"""
    if last.folder_key[2] == -1 or _folder_key(last.folder) != last.folder_key:
        return False
    mtime = last.folder_key[0]  # entries made, removed or renamed set it (and the ctime)
    coarse = mtime % 1_000_000 == 0
    return mtime < last.started - (COARSE_RACY_NS if coarse else RACY_NS)

"""Cheap fingerprints of a project's two sides, to tell real changes from our own echoes.

The file side is the sha256 of its content (and of its includes) and its mode: venvsyncd's
own writes are known by the digest the engine reports. The venv side is site-packages'
directory entries (`busy.venv_mark`).

An event is judged by its side only (`changed`): an edit of the file does not list
site-packages, and an event in site-packages whose folder's mtime moved since the mark is a
change without a look at its entries. A side with no event keeps what was seen of it: a change
there brings its own event (or, lost, the periodic rescan finds it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
from pathlib import Path

from venvsyncd.daemon.tracked import Tracked


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def file_mode(path: Path) -> int | None:
    """Permission bits: making a read-only file writable again is a change worth a sync."""
    try:
        return path.stat().st_mode
    except OSError:
        return None


def venv_signature(tracked: Tracked) -> Hashable:
    from venvsyncd.env.busy import venv_mark
    from venvsyncd.errors import VenvsyncdError

    site = tracked.site_packages
    if site is None or not site.is_dir():
        return ("no venv", tracked.project.venv_exists())
    try:
        return venv_mark(tracked.project.load_venv())
    except VenvsyncdError:
        return ("unreadable venv",)


def signature(
    tracked: Tracked, seen: Mapping[str, str] | None = None, venv_part: Hashable = None
) -> Hashable:
    """Both sides now. `seen` (path -> sha256) and `venv_part` stand in for what the caller
    knows a sync last read, so that a change made after that read is never taken for an echo."""
    requirements = tracked.project.requirements
    known = seen or {}

    def digest(path: str) -> str | None:
        return known[path] if path in known else file_digest(Path(path))

    top = digest(str(requirements))
    includes = tuple(digest(p) for p in sorted(tracked.extra_files))
    devs = tuple(digest(str(p)) for p in tracked.project.dev_files)  # None: not there (yet)
    venv = venv_part if venv_part is not None else venv_signature(tracked)
    return (top, file_mode(requirements), includes, devs, venv)


def venv_part(seen: Hashable) -> Hashable:
    """The venv's part of a `signature` (None: none to reuse)."""
    return seen[-1] if isinstance(seen, tuple) and len(seen) == 5 else None


def venv_moved(tracked: Tracked) -> bool:
    """Has site-packages' own mtime moved from the one `tracked.seen` holds (an entry made,
    removed or renamed since: a change for sure)? False: not that, or cannot tell."""
    part = venv_part(tracked.seen)
    site = tracked.site_packages
    if site is None or not isinstance(part, tuple) or not part or not isinstance(part[0], int):
        return False
    try:
        return site.stat().st_mtime_ns != part[0]
    except OSError:
        return False


def changed(tracked: Tracked, venv: bool) -> bool:
    """Does the project differ from what its last sync saw (`tracked.seen`)? `venv`: the
    venv may have changed (an event in site-packages, or no event to go by); else only the
    files are looked at and the venv's part is taken as seen."""
    if venv and venv_moved(tracked):
        return True
    kept = None if venv else venv_part(tracked.seen)
    return signature(tracked, venv_part=kept) != tracked.seen

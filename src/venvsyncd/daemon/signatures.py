"""Cheap fingerprints of a project's two sides, to tell real changes from our own echoes.

The file side is the sha256 of its content (and of its includes) and its mode: venvsyncd's
own writes are known by the digest the engine reports. The venv side is site-packages'
directory entries.
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

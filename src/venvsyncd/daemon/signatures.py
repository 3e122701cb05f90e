"""Cheap fingerprints of a project's two sides, to tell real changes from our own echoes.

The file side is the sha256 of its content (and of its includes) and its mode: venvsyncd's
own writes are known by the digest the engine reports. The venv side is site-packages'
directory entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
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
    from venvsyncd.busy import site_signature
    from venvsyncd.errors import VenvsyncdError

    site = tracked.site_packages
    if site is None or not site.is_dir():
        return ("no venv", tracked.project.venv_exists())
    try:
        return (site.stat().st_mtime_ns, site_signature(tracked.project.load_venv()))
    except (OSError, VenvsyncdError):
        return ("unreadable venv",)


def signature(tracked: Tracked, file_part: str | None = None) -> Hashable:
    """Both sides now; `file_part` stands in for the file's digest when the caller knows it."""
    requirements = tracked.project.requirements
    top = file_part if file_part is not None else file_digest(requirements)
    includes = tuple(file_digest(Path(p)) for p in sorted(tracked.extra_files))
    return (top, file_mode(requirements), includes, venv_signature(tracked))

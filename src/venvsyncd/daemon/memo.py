"""What the daemon knew of each project when it stopped, so that a start costs a look per
project, not a sync per project.

At stop, each settled project's (in-sync, drift, held, conflict) signature
(`signatures.signature`: its files' digests and site-packages' mark), its includes, the
status it showed and a stat of its folder in the state dir (snapshot, approvals, journal)
are written to `<state>/daemon-memo.json`. At
start, a project whose config entry, signature and state folder are all as they were is
shown as it was, without a sync; any difference (an edit, an install, a `venvsyncd sync`,
`allow` or `undo` meanwhile, a changed config entry, another version) and it is synced as
before. A daemon killed before it wrote the memo leaves an older one: it only ever matches
projects whose sides and store are exactly as that memo says, which is what it recorded.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

from venvsyncd import __version__
from venvsyncd.daemon.tracked import Tracked
from venvsyncd.engine.snapshot import project_state_dir
from venvsyncd.system.files import atomic_write
from venvsyncd.system.private import PRIVATE_FILE
from venvsyncd.wire.status import CONFLICT, DRIFT, HELD, IN_SYNC

log = logging.getLogger("venvsyncd")

MEMO = "daemon-memo.json"
_KEPT = ("state", "packages", "last_sync", "last_change", "message", "broken", "orphans")
# Kept: the states a sync of unchanged sides comes to again. Not an `error`: a start tries
# those again (a download that failed, say), as it always did.
_SETTLED = (IN_SYNC, DRIFT, HELD, CONFLICT)


def _text(value: object) -> str:
    return json.dumps(value, default=repr, sort_keys=True)


def store_mark(state_dir: Path, project: Path) -> str:
    """The project's folder in the state dir as it is now: its files' names, mtimes, sizes."""
    try:
        with os.scandir(project_state_dir(state_dir, project)) as entries:
            rows = sorted(
                (e.name, e.stat().st_mtime_ns, e.stat().st_size)
                for e in entries
                if e.name != "lock"
            )
    except OSError:
        return "unreadable"
    return _text(rows)


def _key(tracked: Tracked, state_dir: Path, seen: Hashable) -> str:
    entry = repr(tracked.entry)
    return _text([__version__, entry, seen, store_mark(state_dir, tracked.project.path)])


def save(state_dir: Path, projects: Iterable[Tracked]) -> None:
    memo: dict[str, Any] = {}
    for tracked in projects:
        if tracked.dirty or tracked.seen is None or tracked.state not in _SETTLED:
            continue
        status = {name: getattr(tracked, name) for name in _KEPT}
        memo[tracked.key] = {
            "key": _key(tracked, state_dir, tracked.seen),
            "extra_files": sorted(tracked.extra_files),
            "status": status,
        }
    try:
        atomic_write(state_dir / MEMO, json.dumps(memo).encode(), mode=PRIVATE_FILE)
    except OSError as exc:
        log.warning("cannot keep what the daemon knew of its projects: %s", exc)


def load(state_dir: Path) -> dict[str, Any]:
    try:
        memo = json.loads((state_dir / MEMO).read_bytes())
    except (OSError, ValueError):
        return {}
    return memo if isinstance(memo, dict) else {}


def recall(tracked: Tracked, state_dir: Path, kept: Any, seen_now: Hashable) -> bool:
    """Put back what the memo kept of the project if nothing changed since; True if so."""
    if not isinstance(kept, dict) or kept.get("key") != _key(tracked, state_dir, seen_now):
        return False
    status = kept.get("status") or {}
    tracked.state = status.get("state", tracked.state)
    tracked.packages = int(status.get("packages") or 0)
    tracked.last_sync = status.get("last_sync")
    tracked.last_change = status.get("last_change")
    tracked.message = status.get("message")
    tracked.broken = tuple(status.get("broken") or ())
    tracked.orphans = tuple(status.get("orphans") or ())
    tracked.seen = seen_now
    tracked.dirty = False
    return True

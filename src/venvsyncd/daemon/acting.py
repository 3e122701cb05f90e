"""What the worker does with a project whose change has settled: check, sync, record."""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING

from venvsyncd.daemon.signatures import signature
from venvsyncd.daemon.tracked import Tracked
from venvsyncd.errors import VenvsyncdError
from venvsyncd.state import utc_now
from venvsyncd.status import ERROR, IN_SYNC, PENDING, SYNCING

if TYPE_CHECKING:
    from venvsyncd.daemon.core import Daemon
    from venvsyncd.sync import Outcome

log = logging.getLogger("venvsyncd")

BUSY_RECHECK = 0.1  # seconds between completion checks while an install runs
STALE_AFTER = 10.0  # a "busy" look with no installer running and no event this long: a leftover


def installer_busy(tracked: Tracked) -> str | None:
    """Why the venv must not be touched now (a user's pip or uv runs, or an install is
    half-written on disk), or None."""
    from venvsyncd.busy import install_in_progress, installer_processes, uv_lock_held

    if not tracked.project.venv_exists():
        return None
    try:
        venv = tracked.project.load_venv()
    except VenvsyncdError:
        return None
    running = installer_processes(venv)
    if running:
        return f"an installer (pid {running[0]}) is running on {venv.root.name}"
    if uv_lock_held(venv):
        return f"uv holds {venv.root / '.lock'}"
    reason = install_in_progress(venv, fresh_after=tracked.synced_at - 2.0, processes=False)
    if reason and time.monotonic() - tracked.last_event < STALE_AFTER:
        return reason
    if reason:
        log.warning("%s: %s, but no installer runs: taking it as a leftover", tracked.key, reason)
    return None


def act(daemon: Daemon, tracked: Tracked) -> None:
    if time.monotonic() < tracked.recheck_at:
        return
    reason = installer_busy(tracked)
    if reason is not None:
        tracked.recheck_at = time.monotonic() + BUSY_RECHECK
        if tracked.message != f"waiting: {reason}":
            tracked.state, tracked.message = PENDING, f"waiting: {reason}"
            daemon.publish()
        return
    tracked.state, tracked.message = SYNCING, None
    daemon.publish()
    try:
        _record(daemon, tracked, _sync(daemon, tracked))
    except Exception as exc:  # a bug costs this project its sync, not the daemon its others
        log.exception("%s: the sync failed", tracked.key)
        why = f"internal error ({type(exc).__name__}: {exc}); the daemon's log has the details"
        tracked.state, tracked.message = ERROR, why[:500]
    daemon.publish()


def _sync(daemon: Daemon, tracked: Tracked) -> Outcome:
    from venvsyncd.sync import SyncRequest, sync_project

    request = SyncRequest(installer=daemon.config.daemon.installer)
    tracked.dirty = tracked.immediate = False
    had_venv = tracked.project.venv_exists()
    outcome = sync_project(tracked.project, daemon.locations.state_dir, request)
    if tracked.project.venv_exists() != had_venv:
        daemon.refresh(tracked)
    return outcome


def _record(daemon: Daemon, tracked: Tracked, outcome: Outcome) -> None:
    from venvsyncd.observe import read_file

    tracked.state = outcome.state
    tracked.message = outcome.message
    tracked.packages = outcome.packages or tracked.packages
    tracked.synced_at = time.time()
    if outcome.state == IN_SYNC:
        tracked.last_sync = utc_now()
        if outcome.summary:
            tracked.last_change = outcome.summary
            log.info("%s: %s: %s", tracked.key, tracked.trigger, outcome.summary)
    else:
        log.warning("%s: %s: %s", tracked.key, outcome.state, outcome.message)
    for warning in outcome.warnings:
        log.warning("%s: %s", tracked.key, warning)
    try:
        file = read_file(tracked.project.requirements)
        tracked.extra_files = _other_files(tracked, frozenset(file.texts) if file else frozenset())
    except VenvsyncdError:
        pass
    if _watches_stale(daemon, tracked):
        daemon.refresh(tracked)
    # An error of the system (a full disk) is tried again at the next rescan, though
    # nothing on disk changed; any other error waits for a change.
    tracked.seen = None if outcome.retry else signature(tracked, outcome.file_digest)


def _watches_stale(daemon: Daemon, tracked: Tracked) -> bool:
    """Does the project need watches it lacks: a folder deleted and made again (its watch
    went with the old one), a venv back, an include or a link target elsewhere?"""
    if tracked.polled:
        return False  # no inotify watch to be had: polled instead
    venv_known = tracked.site_packages is not None
    return tracked.project.venv_exists() != venv_known or not (
        tracked.folders() <= daemon.watcher.folders
    )


def _other_files(tracked: Tracked, texts: frozenset[str]) -> frozenset[str]:
    """The files besides the requirements file whose changes are the project's: its
    includes, and the file it is a symlink to (edits there do not touch the link)."""
    requirements = str(tracked.project.requirements)
    if os.path.islink(requirements):  # noqa: PTH114 (a str, like every event path)
        texts |= {os.path.realpath(requirements)}
    return texts - {requirements}

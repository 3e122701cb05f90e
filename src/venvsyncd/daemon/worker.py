"""What the worker does with a project whose change has settled: check, sync, record.

It is handed a `Host` (the daemon, as far as a sync needs it) and the project's `Tracked`;
it does not import the daemon's core.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from venvsyncd.config import Config
from venvsyncd.daemon.signatures import signature
from venvsyncd.daemon.tracked import Tracked
from venvsyncd.engine.snapshot import utc_now
from venvsyncd.errors import VenvsyncdError
from venvsyncd.wire.status import ERROR, IN_SYNC, PENDING, SYNCING

if TYPE_CHECKING:
    from venvsyncd.engine.sync import Outcome

log = logging.getLogger("venvsyncd")

BUSY_RECHECK = 0.1  # seconds between completion checks while an install runs
STALE_AFTER = 10.0  # a "busy" look with no installer running and no event this long: a leftover
PENDING_RECHECK = 0.5  # seconds before a sync stopped between rounds is tried again
WRITER_TRUST = 5.0  # seconds an unclosed write is believed without asking /proc
WRITER_RECHECK = 1.0  # then /proc is asked at most this often
WRITER_TIMEOUT = 30.0  # where /proc cannot tell: how long an unclosed write keeps a file waiting


class Host(Protocol):
    """What a sync needs of the daemon that runs it."""

    config: Config

    @property
    def state_dir(self) -> Path: ...

    def publish(self) -> None:
        """Make the projects' states visible to `status` (and the service manager)."""

    def refresh(self, tracked: Tracked) -> None:
        """Resolve the project's venv again and watch what it needs."""

    def watched_folders(self) -> set[Path]: ...


def installer_busy(tracked: Tracked) -> str | None:
    """Why the venv must not be touched now (a user's pip or uv runs, or an install is
    half-written on disk), or None."""
    from venvsyncd.env.busy import install_in_progress, uv_lock_held
    from venvsyncd.env.processes import installer_processes

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


def act(host: Host, tracked: Tracked) -> None:
    if time.monotonic() < tracked.recheck_at:
        return
    reason = still_written(tracked)  # sets its own time to look again
    if reason is None:
        reason = installer_busy(tracked)
        if reason is not None:
            tracked.recheck_at = time.monotonic() + BUSY_RECHECK
    if reason is not None:
        if tracked.message != f"waiting: {reason}":
            tracked.state, tracked.message = PENDING, f"waiting: {reason}"
            host.publish()
        return
    tracked.state, tracked.message = SYNCING, None
    host.publish()
    try:
        _record(host, tracked, _sync(host, tracked))
    except Exception as exc:  # a bug costs this project its sync, not the daemon its others
        log.exception("%s: the sync failed", tracked.key)
        why = f"internal error ({type(exc).__name__}: {exc}); the daemon's log has the details"
        tracked.state, tracked.message = ERROR, why[:500]
    host.publish()


def still_written(tracked: Tracked) -> str | None:
    """Why the project's file must not be read yet: a writer wrote to it and has not closed
    it (`Tracked.writing`, from close-after-write events). The events are trusted for
    WRITER_TRUST seconds after the last write; then /proc is asked (it costs a scan of every
    process, so at most every WRITER_RECHECK), and a writer it does not find is forgotten
    (where /proc cannot tell, after WRITER_TIMEOUT)."""
    from venvsyncd.system.writers import open_for_writing

    now = time.monotonic()
    for path, at in list(tracked.writing.items()):
        if now - at >= WRITER_TRUST:
            held = open_for_writing(path)
            if not held and (held is not None or now - at >= WRITER_TIMEOUT):
                del tracked.writing[path]
                continue
        tracked.recheck_at = now + (BUSY_RECHECK if now - at < WRITER_TRUST else WRITER_RECHECK)
        return f"a program still has {Path(path).name} open for writing"
    return None


def _sync(host: Host, tracked: Tracked) -> Outcome:
    from venvsyncd.engine.sync import SyncRequest, sync_project

    settings = host.config.daemon
    request = SyncRequest(
        installer=settings.installer,
        history=settings.history,
        unattended=True,
        busy=lambda: installer_busy(tracked),
    )
    tracked.dirty = tracked.immediate = False
    had_venv = tracked.project.venv_exists()
    outcome = sync_project(tracked.project, host.state_dir, request)
    if tracked.project.venv_exists() != had_venv:
        host.refresh(tracked)
    return outcome


def _record(host: Host, tracked: Tracked, outcome: Outcome) -> None:
    from venvsyncd.engine.observe import read_file

    tracked.state = outcome.state
    tracked.message = outcome.message
    tracked.packages = outcome.packages or tracked.packages
    tracked.synced_at = time.time()
    if outcome.state == PENDING:  # stopped between rounds: a user's installer runs
        if outcome.summary:
            log.info("%s: %s: %s", tracked.key, tracked.trigger, outcome.summary)
            tracked.last_change = outcome.summary
        tracked.dirty = True
        tracked.recheck_at = time.monotonic() + PENDING_RECHECK
        return
    tracked.broken = outcome.broken
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
    if _watches_stale(host, tracked):
        host.refresh(tracked)
    # An error of the system (a full disk) is tried again at the next rescan, though
    # nothing on disk changed; any other error waits for a change.
    seen = signature(tracked, outcome.digests, outcome.venv_mark)
    tracked.seen = None if outcome.retry else seen


def _watches_stale(host: Host, tracked: Tracked) -> bool:
    """Does the project need watches it lacks: a folder deleted and made again (its watch
    went with the old one), a venv back, an include or a link target elsewhere?"""
    if tracked.polled:
        return False  # no inotify watch to be had: polled instead
    venv_known = tracked.site_packages is not None
    return tracked.project.venv_exists() != venv_known or not (
        tracked.folders() <= host.watched_folders()
    )


def _other_files(tracked: Tracked, texts: frozenset[str]) -> frozenset[str]:
    """The files besides the requirements file whose changes are the project's: its
    includes, and the file it is a symlink to (edits there do not touch the link)."""
    requirements = str(tracked.project.requirements)
    if os.path.islink(requirements):  # noqa: PTH114 (a str, like every event path)
        texts |= {os.path.realpath(requirements)}
    return texts - {requirements}

"""What is done with a project whose change has settled: check, sync, record.

`run_job` runs on an action thread (`pool.py`) with a `Job` (a copy of the project's
`Tracked`): it waits for no one (a user's installer running is a `Finished.waiting` the
coordinator retries), runs the engine's sync, and reads what the sync left. `record` runs on
the coordinator, which owns the `Tracked`, with the `Host` (the daemon as far as recording
needs it); this module does not import the daemon's core.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from venvsyncd.config import DaemonSettings
from venvsyncd.daemon.signatures import signature
from venvsyncd.daemon.tracked import Tracked
from venvsyncd.engine.snapshot import utc_now
from venvsyncd.env.scan import shared
from venvsyncd.errors import VenvsyncdError
from venvsyncd.wire.status import ERROR, IN_SYNC, PENDING

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
    """What recording a sync needs of the daemon (the coordinator)."""

    def refresh(self, tracked: Tracked) -> None:
        """Resolve the project's venv again and watch what it needs."""

    def watching(self, folders: set[Path]) -> bool:
        """Are all of `folders` watched?"""


@dataclass(frozen=True)
class Job:
    """One project's action, as an action thread gets it: a copy of the project's record
    taken when it was handed over (the coordinator goes on changing the original)."""

    view: Tracked
    state_dir: Path
    settings: DaemonSettings
    stopping: threading.Event
    started: Callable[[], object]  # tells the coordinator the sync itself begins
    config_file: Path | None = None  # the daemon's config (for the `sync --check` record)


@dataclass(frozen=True)
class Finished:
    """What an action found: a reason to wait, or the sync's outcome and what follows it."""

    waiting: str | None = None
    outcome: Outcome | None = None
    extra_files: frozenset[str] | None = None  # the file's includes, as the sync left them
    seen: Hashable = None
    venv_changed: bool = False  # the venv was made or went away during the sync
    crash: str | None = None  # a bug: the message for the project's `error`


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


def run_job(job: Job) -> Finished:
    """On an action thread: a reason to wait, or one sync and what it left."""
    view = job.view
    try:
        with shared():  # site-packages is listed once while it stays unchanged (env/scan.py)
            reason = installer_busy(view)
            if reason is not None:
                return Finished(waiting=reason)
            job.started()
            had_venv = view.project.venv_exists()
            outcome = _sync(job)
        extra = _included(view, outcome)
        # An error of the system (a full disk) is tried again at the next rescan, though
        # nothing on disk changed; any other error waits for a change.
        seen = None
        if not outcome.retry:
            after = view if extra is None else replace(view, extra_files=extra)
            seen = signature(after, outcome.digests, outcome.venv_mark)
        changed = view.project.venv_exists() != had_venv
        return Finished(None, outcome, extra, seen, changed)
    except Exception as exc:  # a bug costs this project its sync, not the daemon its others
        log.exception("%s: the sync failed", view.key)
        why = f"internal error ({type(exc).__name__}: {exc}); the daemon's log has the details"
        return Finished(crash=why[:500])


def _sync(job: Job) -> Outcome:
    from venvsyncd.engine.sync import SyncRequest, sync_project

    view = job.view

    def busy() -> str | None:
        return "the daemon is stopping" if job.stopping.is_set() else installer_busy(view)

    request = SyncRequest(
        installer=job.settings.installer,
        history=job.settings.history,
        unattended=True,
        busy=busy,
        config_file=job.config_file,
    )
    return sync_project(view.project, job.state_dir, request)


def _included(view: Tracked, outcome: Outcome) -> frozenset[str] | None:
    """The files besides the requirements file that are the project's now (None: unread):
    those the sync's last round read, else (it read none) as the files say now."""
    from venvsyncd.engine.observe import read_file

    if outcome.digests:
        return _other_files(view, frozenset(outcome.digests))
    try:
        file = read_file(view.project.requirements, view.project.dev_files)
    except VenvsyncdError:
        return None
    return _other_files(view, frozenset(file.texts) if file else frozenset())


def record(host: Host, tracked: Tracked, finished: Finished) -> None:
    """On the coordinator: what an action found, put on the project's record."""
    if finished.waiting is not None:
        tracked.dirty = True
        tracked.recheck_at = time.monotonic() + BUSY_RECHECK
        tracked.state, tracked.message = PENDING, f"waiting: {finished.waiting}"
        return
    if finished.outcome is None:
        tracked.state, tracked.message = ERROR, finished.crash
        return
    _record(tracked, finished.outcome)
    settled = finished.outcome.state != PENDING  # else: the rest of the sync comes next
    if settled and finished.extra_files is not None:
        tracked.extra_files = finished.extra_files
    if finished.venv_changed or (settled and _watches_stale(host, tracked)):
        host.refresh(tracked)
    if settled:
        tracked.seen = finished.seen


def _record(tracked: Tracked, outcome: Outcome) -> None:
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
    tracked.orphans = outcome.orphans
    if outcome.new_orphans:
        log.info(
            "%s: nothing needs %s any more (pip uninstall %s, or autoremove = true)",
            tracked.key,
            ", ".join(outcome.new_orphans),
            " ".join(outcome.new_orphans),
        )
    if outcome.state == IN_SYNC:
        tracked.last_sync = utc_now()
        if outcome.summary:
            tracked.last_change = outcome.summary
            log.info("%s: %s: %s", tracked.key, tracked.trigger, outcome.summary)
    else:
        log.warning("%s: %s: %s", tracked.key, outcome.state, outcome.message)
    for warning in outcome.warnings:
        log.warning("%s: %s", tracked.key, warning)


def _watches_stale(host: Host, tracked: Tracked) -> bool:
    """Does the project need watches it lacks: a folder deleted and made again (its watch
    went with the old one), a venv back, an include or a link target elsewhere?"""
    if tracked.polled:
        return False  # no inotify watch to be had: polled instead
    venv_known = tracked.site_packages is not None
    return tracked.project.venv_exists() != venv_known or not host.watching(tracked.folders())


def _other_files(tracked: Tracked, texts: frozenset[str]) -> frozenset[str]:
    """The files besides the requirements file whose changes are the project's: its
    includes, and the file it is a symlink to (edits there do not touch the link)."""
    requirements = str(tracked.project.requirements)
    if os.path.islink(requirements):  # noqa: PTH114 (a str, like every event path)
        texts |= {os.path.realpath(requirements)}
    return texts - {requirements}

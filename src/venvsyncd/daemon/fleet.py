"""The projects the coordinator owns: their records, the indexes over them, their watches and
their published statuses. `core.Daemon` is a `Fleet` with a queue, a loop and action threads;
everything here runs on the coordinator thread.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from venvsyncd.config import Config, ProjectEntry
from venvsyncd.daemon import memo
from venvsyncd.daemon.board import Board
from venvsyncd.daemon.configwatch import ConfigWatch
from venvsyncd.daemon.schedule import DueQueue, Routes
from venvsyncd.daemon.signatures import signature
from venvsyncd.daemon.tracked import Tracked
from venvsyncd.daemon.watch import PathCallback, Watcher
from venvsyncd.env.venvs import VENV_CANDIDATES
from venvsyncd.errors import VenvsyncdError
from venvsyncd.paths import Locations
from venvsyncd.project import resolve, venvs_note
from venvsyncd.wire.status import PENDING, SYNCING, ProjectStatus

log = logging.getLogger("venvsyncd")

POLL_SECONDS = 2.0  # for projects that could not get an inotify watch
NO_WATCH_HINT = (
    "raise the inotify limits: sudo sysctl fs.inotify.max_user_watches=524288 "
    "fs.inotify.max_user_instances=1024"
)


class Fleet:
    def __init__(
        self, config: Config, extra_paths: Sequence[Path], locs: Locations, on_path: PathCallback
    ) -> None:
        self.config = config
        self.locations = locs
        self.extra_paths = tuple(extra_paths)
        self.board = Board()
        self.tracked: dict[str, Tracked] = {}
        self.routes = Routes()
        self.due = DueQueue()
        self._unpublished: dict[str, Tracked] = {}
        self._polled: set[str] = set()
        self.watcher = Watcher(on_path)
        self.config_watch = ConfigWatch(config.file)

    @property
    def published(self) -> tuple[ProjectStatus, ...]:
        return self.board.published

    def matching(self, paths: list[str]) -> list[Tracked]:
        return [self.tracked[p] for p in paths if p in self.tracked]

    def mark(self, tracked: Tracked, trigger: str, at: float) -> None:
        if not tracked.dirty:
            tracked.trigger = trigger
        tracked.dirty = True
        tracked.last_event = max(tracked.last_event, at)
        self.schedule(tracked)
        if tracked.state not in (PENDING, SYNCING):  # else its status stands as it is
            tracked.state, tracked.message = PENDING, trigger
            self.publish(tracked)

    def schedule(self, tracked: Tracked) -> None:
        """Have the project looked at when it is due (a dirty one, not paused)."""
        if tracked.dirty and not tracked.paused:
            self.due.push(tracked.key, self._due_at(tracked))

    def _due_at(self, tracked: Tracked) -> float:
        settle = self.config.daemon.settle_seconds
        settled = 0.0 if tracked.immediate else tracked.last_event + settle
        return max(settled, tracked.recheck_at)

    def publish(self, tracked: Tracked) -> None:
        """The project's status changed: readers see it at the next `flush`."""
        self._unpublished[tracked.key] = tracked

    def flush(self) -> None:
        if not self._unpublished:
            return
        changed = False
        for key, tracked in self._unpublished.items():
            status = tracked.status()
            if self.tracked.get(key) is tracked and self.board.status_of(key) != status:
                self.board.put(status)
                changed = True
        self._unpublished.clear()
        if changed:
            self.board.flush()

    def _apply_config(self, config: Config) -> None:
        from venvsyncd.project import for_path

        self.config = config
        entries = {str(e.path): e for e in config.projects}
        for extra in self.extra_paths:
            adhoc = for_path(config, extra)
            entries.setdefault(
                str(adhoc.path), ProjectEntry(adhoc.path, None, None, config.defaults)
            )
        gone = set(self.tracked) - set(entries)
        for key in gone:
            del self.tracked[key]
            self.routes.drop(key)
        self.board.drop(gone)
        for key, entry in entries.items():
            old = self.tracked.get(key)
            if old is None or old.entry != entry:
                self.tracked[key] = Tracked(entry, resolve(entry))
                self.refresh(self.tracked[key], rewatch=False)
                self.schedule(self.tracked[key])
                self.publish(self.tracked[key])
        self._rewatch()  # once for all: per project it would be quadratic
        self.board.flush()

    def refresh(self, tracked: Tracked, rewatch: bool = True) -> None:
        """Re-resolve the project's venv (created, deleted or replaced) and watch it again."""
        tracked.project = resolve(tracked.entry)
        tracked.venvs_note = venvs_note(tracked.project)
        tracked.venv_real = os.path.realpath(tracked.project.venv_root)
        old_site = tracked.site_packages
        tracked.site_packages = None
        tracked.python = None
        if tracked.project.venv_exists():
            try:
                venv = tracked.project.load_venv()
                tracked.site_packages = venv.site_packages
                tracked.python = venv.version_text
            except VenvsyncdError:
                pass
        if old_site is not None:
            self.watcher.rewatch(old_site)
        self._route(tracked)
        self.publish(tracked)
        if rewatch:  # this project's folders only: a venv made costs one project, not all
            self._poll_if_lost(tracked, self.watcher.add_folders(tracked.folders()))

    def _route(self, tracked: Tracked) -> None:
        project = tracked.project
        folders = {str(project.path), str(project.requirements.parent), str(project.venv_root)}
        folders |= {str(project.path / name) for name in VENV_CANDIDATES}
        folders |= {os.path.dirname(f) for f in tracked.extra_files}  # noqa: PTH120
        if tracked.site_packages is not None:
            folders.add(str(tracked.site_packages))
        self.routes.put(tracked.key, folders)

    def _rewatch(self) -> None:
        wanted = set().union(*(t.folders() for t in self.tracked.values()))
        wanted |= self.config_watch.folders()
        failed = self.watcher.set_folders(wanted)
        for tracked in self.tracked.values():
            self._poll_if_lost(tracked, failed)

    def _poll_if_lost(self, tracked: Tracked, failed: dict[Path, OSError]) -> None:
        """A project some of whose folders could not be watched is polled, and says why."""
        lost = [f for f in tracked.folders() if f in failed]
        polled, tracked.polled = tracked.polled, None
        self._polled.discard(tracked.key)
        if lost:
            why = failed[lost[0]].strerror or str(failed[lost[0]])
            tracked.polled = (
                f"polled every {POLL_SECONDS:g} s: no inotify watch ({why}); {NO_WATCH_HINT}"
            )
            self._polled.add(tracked.key)
            log.warning("%s: %s", tracked.key, tracked.polled)
        if tracked.polled != polled:
            self.publish(tracked)

    def recall(self) -> None:
        """Show each project whose sides and store are as they were at the last stop as it
        was then, without a sync (`memo.py`); the others are synced as they come due."""
        kept = memo.load(self.state_dir)
        recalled = 0
        for tracked in self.tracked.values():
            if tracked.key not in kept:
                continue
            tracked.extra_files = frozenset(kept[tracked.key].get("extra_files") or ())
            if memo.recall(tracked, self.state_dir, kept[tracked.key], signature(tracked)):
                recalled += 1
                self._route(tracked)
                self.publish(tracked)
        log.info("%d of %d projects as they were at the last stop", recalled, len(self.tracked))

    # ---- what recording is handed (worker.Host) ------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.locations.state_dir

    def watching(self, folders: set[Path]) -> bool:
        return self.watcher.watching(folders)

"""The daemon's heart: one worker thread that owns all project state.

Other threads (watchdog's, the IPC server's, signal handlers) only put `Command`s (a function
to run) on the queue; the worker routes file events to projects, settles, hands due projects
to `worker.act`, and publishes an immutable tuple of `ProjectStatus` that IPC handlers read.
The IPC operations themselves are in `ops.py`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venvsyncd.config import Config, ProjectEntry, load_config
from venvsyncd.daemon.configwatch import ConfigWatch
from venvsyncd.daemon.signatures import signature
from venvsyncd.daemon.tracked import Tracked
from venvsyncd.daemon.watch import Watcher
from venvsyncd.daemon.worker import act
from venvsyncd.errors import ConfigError, VenvsyncdError
from venvsyncd.paths import Locations
from venvsyncd.project import resolve, venvs_note
from venvsyncd.wire.status import BUSY_STATES, PENDING, SYNCING, DaemonInfo, ProjectStatus

log = logging.getLogger("venvsyncd")

POLL_SECONDS = 2.0  # for projects that could not get an inotify watch
NO_WATCH_HINT = (
    "raise the inotify limits: sudo sysctl fs.inotify.max_user_watches=524288 "
    "fs.inotify.max_user_instances=1024"
)


@dataclass
class Command:
    """Work for the worker thread: `run` is called there, its answer left in `result`."""

    run: Callable[[], dict[str, Any]]
    done: threading.Event = field(default_factory=threading.Event)
    result: dict[str, Any] = field(default_factory=dict)


class Daemon:
    def __init__(
        self, config: Config, extra_paths: Sequence[Path], locs: Locations, rescan: float = 60.0
    ) -> None:
        self.config = config
        self.locations = locs
        self.extra_paths = tuple(extra_paths)
        self.rescan_seconds = rescan
        self.queue: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.changed = threading.Condition()
        self.published: tuple[ProjectStatus, ...] = ()
        self.tracked: dict[str, Tracked] = {}
        self.watcher = Watcher(self.on_path)
        self.config_watch = ConfigWatch(config.file)
        self._next_rescan = time.monotonic() + rescan
        self.on_publish: Callable[[tuple[ProjectStatus, ...]], None] | None = None
        # Each turn of the worker loop (the service watchdog); seconds until it is due again.
        self.on_tick: Callable[[], float] | None = None
        self.info = DaemonInfo(os.getpid(), "", "", str(config.file), str(locs.socket))

    # ---- any thread ----------------------------------------------------------------------
    def on_path(self, src: str, dest: str | None, kind: str = "changed") -> None:
        at = time.monotonic()
        self.submit(lambda: self._saw((src, dest), kind, at))

    def submit(self, run: Callable[[], dict[str, Any]]) -> Command:
        """Have the worker call `run`; the returned command says when it is done."""
        command = Command(run)
        self.queue.put(command)
        return command

    def stop(self) -> None:
        """Stop after the current action (any thread: a signal, the `stop` op)."""
        self.stopping.set()
        self.submit(dict)  # wakes the worker

    def wait_idle(self, paths: list[str], timeout: float) -> bool:
        """After a barrier (changes on disk now are seen), wait until nothing is pending."""
        deadline = time.monotonic() + timeout
        if not self.submit(lambda: self._barrier(paths)).done.wait(timeout):
            return False
        chosen = set(paths)

        def idle() -> bool:
            return not any(p.state in BUSY_STATES for p in self.published if p.path in chosen)

        with self.changed:
            return self.changed.wait_for(idle, max(0.0, deadline - time.monotonic()))

    # ---- the worker ----------------------------------------------------------------------
    def start_watching(self) -> None:
        self.watcher.start()
        self._apply_config(self.config)

    def run_worker(self) -> None:
        while not self.stopping.is_set():
            tick = self.on_tick() if self.on_tick is not None else 1.0
            timeout = max(0.0, min(self._next_deadline() - time.monotonic(), 1.0, tick))
            try:
                command: Command | None = self.queue.get(timeout=timeout)
            except queue.Empty:
                command = None
            while command is not None:
                self._handle(command)
                command = self._next_nowait()
            self._act_on_due()
            self._maybe_rescan()
        self.watcher.stop()

    def _next_nowait(self) -> Command | None:
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            return None

    def _handle(self, command: Command) -> None:
        try:
            command.result = command.run()
        except VenvsyncdError as exc:
            command.result = {"error": exc.message, "hint": exc.hint, "exit": exc.exit_code}
        finally:
            command.done.set()

    def _next_deadline(self) -> float:
        now = time.monotonic()
        deadline = self._next_rescan
        settle = self.config.daemon.settle_seconds
        for tracked in self.tracked.values():
            if tracked.dirty and not tracked.paused:
                due = now if tracked.immediate else tracked.last_event + settle
                deadline = min(deadline, max(due, tracked.recheck_at))
            if tracked.polled:
                deadline = min(deadline, now + POLL_SECONDS)
        return min(deadline, self.config_watch.due(settle))

    # ---- events and state changes (worker thread) ----------------------------------------
    def _saw(self, paths: tuple[str, str | None], kind: str, at: float) -> dict[str, Any]:
        """A file event: mark the projects it concerns (not our own echoes), note writers."""
        if str(self.config.file) in paths:
            self.config_watch.saw(at)
        changed = False
        for tracked in self.tracked.values():
            hits = [p for p in paths if p is not None and tracked.cares_about(p)]
            if not hits or tracked.paused:
                continue
            if self.watcher.reports_closes:
                tracked.note_write(paths[0], paths[1], kind, at)
            if any(tracked.is_venv_life(p) for p in hits):
                self.refresh(tracked)
            elif not tracked.dirty and signature(tracked) == tracked.seen:
                continue  # the echo of our own write or install: both sides are as we left them
            self.mark(tracked, tracked.trigger_for(hits[0]), at)
            changed = True
        if changed:
            self.publish()
        return {}

    def _barrier(self, paths: list[str]) -> dict[str, Any]:
        for tracked in self.matching(paths):
            if not tracked.paused and signature(tracked) != tracked.seen:
                self.mark(tracked, "change found on disk", time.monotonic())
        self.publish()
        return {}

    def reload(self) -> dict[str, Any]:
        """Read the config again (`reload`, SIGHUP, an edit of the file); a bad one is logged
        and refused, and the daemon goes on with the config it has."""
        try:
            config = load_config(self.config.file)
        except ConfigError as exc:
            log.error("%s; the daemon keeps its previous config (%s)", exc.message, exc.hint)
            raise
        self.config_watch.loaded()
        self._apply_config(config)
        log.info("reloaded %s: %d projects", config.file, len(self.tracked))
        return {"reloaded": True, "projects": len(self.tracked)}

    def matching(self, paths: list[str]) -> list[Tracked]:
        return [self.tracked[p] for p in paths if p in self.tracked]

    def mark(self, tracked: Tracked, trigger: str, at: float) -> None:
        if not tracked.dirty:
            tracked.trigger = trigger
        tracked.dirty = True
        tracked.last_event = max(tracked.last_event, at)
        if tracked.state not in (SYNCING,):
            tracked.state = PENDING

    def publish(self) -> None:
        self.published = tuple(t.status() for t in self.tracked.values())
        with self.changed:
            self.changed.notify_all()
        if self.on_publish is not None:
            self.on_publish(self.published)

    def _apply_config(self, config: Config) -> None:
        from venvsyncd.project import for_path

        self.config = config
        entries = {str(e.path): e for e in config.projects}
        for extra in self.extra_paths:
            adhoc = for_path(config, extra)
            entries.setdefault(
                str(adhoc.path), ProjectEntry(adhoc.path, None, None, config.defaults)
            )
        for key in set(self.tracked) - set(entries):
            del self.tracked[key]
        for key, entry in entries.items():
            old = self.tracked.get(key)
            if old is None or old.entry != entry:
                self.tracked[key] = Tracked(entry, resolve(entry))
                self.refresh(self.tracked[key], rewatch=False)
        self._rewatch()  # once for all: per project it would be quadratic
        self.publish()

    def refresh(self, tracked: Tracked, rewatch: bool = True) -> None:
        """Re-resolve the project's venv (created, deleted or replaced) and watch it again."""
        tracked.project = resolve(tracked.entry)
        tracked.venvs_note = venvs_note(tracked.project)
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
        if rewatch:
            self._rewatch()

    def _rewatch(self) -> None:
        wanted = set().union(*(t.folders() for t in self.tracked.values()))
        wanted |= self.config_watch.folders()
        failed = self.watcher.set_folders(wanted)
        for tracked in self.tracked.values():
            lost = [f for f in tracked.folders() if f in failed]
            if lost:
                why = failed[lost[0]].strerror or str(failed[lost[0]])
                tracked.polled = (
                    f"polled every {POLL_SECONDS:g} s: no inotify watch ({why}); {NO_WATCH_HINT}"
                )
                log.warning("%s: %s", tracked.key, tracked.polled)
            else:
                tracked.polled = None

    def _maybe_rescan(self) -> None:
        now = time.monotonic()
        polled = [t for t in self.tracked.values() if t.polled]
        if now < self._next_rescan and not polled:
            return
        everyone = now >= self._next_rescan
        if everyone:  # an edit of the config whose event was lost
            self.config_watch.saw(now - self.config.daemon.settle_seconds)
        for tracked in self.tracked.values() if everyone else polled:
            if not tracked.paused and not tracked.dirty and signature(tracked) != tracked.seen:
                self.mark(tracked, "rescan", now)
        if everyone:
            self._next_rescan = now + self.rescan_seconds
        self.publish()

    def _act_on_due(self) -> None:
        settle = self.config.daemon.settle_seconds
        if self.config_watch.due(settle) <= time.monotonic() and self.config_watch.changed():
            with contextlib.suppress(ConfigError):  # logged; the old config stays
                self.reload()
        for tracked in list(self.tracked.values()):
            if self.stopping.is_set():
                return
            if not tracked.dirty or tracked.paused:
                continue
            if not tracked.immediate and time.monotonic() - tracked.last_event < settle:
                continue
            act(self, tracked)

    # ---- what the worker is handed (worker.Host) -------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.locations.state_dir

    def watched_folders(self) -> set[Path]:
        return self.watcher.folders

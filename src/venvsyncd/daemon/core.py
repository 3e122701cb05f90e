"""The daemon's heart: one coordinator thread that owns all project state.

Other threads (the watch's reader, the IPC server's, the action threads, signal handlers)
only put `Command`s (a function to run) on the queue. The coordinator routes file events to
the projects they concern (`schedule.Routes`), settles, hands each due project to an action
thread (`pool.py`, `worker.run_job`; never two at once on one venv) and takes the outcome
back as a Command (`worker.record`). It never waits on a sync, so every project's state is
true at every moment: `pending` while a change settles or waits, `syncing` while its sync
runs. It publishes each project's `ProjectStatus` when it changes (`board.Board`), which
IPC handlers read. The IPC operations themselves are in `ops.py`.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venvsyncd.config import Config, load_config
from venvsyncd.daemon import memo
from venvsyncd.daemon.fleet import POLL_SECONDS, Fleet
from venvsyncd.daemon.pool import ActionPool, pool_size
from venvsyncd.daemon.signatures import changed
from venvsyncd.daemon.tracked import Tracked
from venvsyncd.daemon.worker import BUSY_RECHECK, Finished, Job, record, run_job, still_written
from venvsyncd.errors import ConfigError, VenvsyncdError
from venvsyncd.paths import Locations
from venvsyncd.wire.status import PENDING, SYNCING, DaemonInfo

log = logging.getLogger("venvsyncd")

BATCH = 1000  # commands handled in a row before the due projects are looked at
STOP_SECONDS = 7.0  # at stop: how long running installers get to end, all told
__all__ = ["POLL_SECONDS", "Command", "Daemon"]


@dataclass
class Command:
    """Work for the coordinator: `run` is called there, its answer left in `result`."""

    run: Callable[[], dict[str, Any]]
    done: threading.Event = field(default_factory=threading.Event)
    result: dict[str, Any] = field(default_factory=dict)


class Daemon(Fleet):
    def __init__(
        self, config: Config, extra_paths: Sequence[Path], locs: Locations, rescan: float = 60.0
    ) -> None:
        self._events: list[tuple[tuple[str, str | None], str, float]] = []  # not yet taken
        self._events_lock = threading.Lock()
        super().__init__(config, extra_paths, locs, self.on_path)
        self.rescan_seconds = rescan
        self.queue: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.pool = ActionPool(pool_size())
        self._running: dict[str, tuple[Tracked, str]] = {}  # project -> its record, its venv
        self._next_rescan = time.monotonic() + rescan
        self._next_poll = 0.0
        # Each turn of the coordinator's loop (the service watchdog); seconds until it is due.
        self.on_tick: Callable[[], float] | None = None
        self.info = DaemonInfo(os.getpid(), "", "", str(config.file), str(locs.socket))

    # ---- any thread ----------------------------------------------------------------------
    def on_path(self, src: str, dest: str | None, kind: str = "changed") -> None:
        """A file event (the watch's reader thread): the events that come together (one read
        of inotify brings many) are handed to the coordinator as one command."""
        with self._events_lock:
            self._events.append(((src, dest), kind, time.monotonic()))
            if len(self._events) > 1:  # a command to take them is queued already
                return
        self.submit(self._take_events)

    def submit(self, run: Callable[[], dict[str, Any]]) -> Command:
        """Have the coordinator call `run`; the returned command says when it is done."""
        command = Command(run)
        self.queue.put(command)
        return command

    def stop(self) -> None:
        """Stop: running installers are interrupted (any thread: a signal, the `stop` op)."""
        self.stopping.set()
        self.board.close()  # `wait` callers are answered now
        self.submit(dict)  # wakes the coordinator

    def wait_idle(self, paths: list[str], timeout: float) -> bool:
        """After a barrier (changes on disk now are seen), wait until nothing is pending."""
        deadline = time.monotonic() + timeout
        if not self.submit(lambda: self._barrier(paths)).done.wait(timeout):
            return False
        return self.board.wait_idle(paths, max(0.0, deadline - time.monotonic()))

    # ---- the coordinator -----------------------------------------------------------------
    def start_watching(self) -> None:
        self.watcher.start()
        self._apply_config(self.config)
        self.recall()
        self.flush()

    def run_worker(self) -> None:
        while not self.stopping.is_set():
            tick = self.on_tick() if self.on_tick is not None else math.inf
            # No cap: everything that needs a turn either queues a Command (which wakes it) or
            # has its time in `_next_deadline`; a wake-up a second costs a timer tick of CPU.
            timeout = max(0.0, min(self._next_deadline() - time.monotonic(), tick))
            try:
                command: Command | None = self.queue.get(timeout=timeout)
            except queue.Empty:
                command = None
            for _ in range(BATCH):  # then due projects get their turn, even in a storm
                if command is None:
                    break
                self._handle(command)
                command = self._next_nowait()
            if command is not None:
                self._handle(command)
            self._act_on_due()
            self._maybe_rescan()
            self.flush()
        if not self.pool.stop(STOP_SECONDS):
            log.warning("stopping with a sync still running")
        while (command := self._next_nowait()) is not None:
            self._handle(command)  # the ends of the actions: logged, not recorded
        self.watcher.stop()
        memo.save(self.state_dir, self.tracked.values())

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
            self.flush()  # what the command changed is seen before its caller hears back
            command.done.set()

    def _next_deadline(self) -> float:
        deadline = min(self._next_rescan, self.config_watch.due(self.config.daemon.settle_seconds))
        if self._polled:
            deadline = min(deadline, self._next_poll)
        if len(self._running) < self.pool.size:
            deadline = min(deadline, self.due.first())
        return deadline

    # ---- events and state changes (coordinator) ------------------------------------------
    def _take_events(self) -> dict[str, Any]:
        with self._events_lock:
            events, self._events = self._events, []
        for paths, kind, at in events:
            self._saw(paths, kind, at)
        return {}

    def _saw(self, paths: tuple[str, str | None], kind: str, at: float) -> None:
        """A file event: mark the projects it concerns (not our own echoes), note writers."""
        if str(self.config.file) in paths:
            self.config_watch.saw(at)
        keys: set[str] = set().union(*(self.routes.candidates(p) for p in paths if p is not None))
        for key in keys:
            tracked = self.tracked.get(key)
            hits = [p for p in paths if p is not None and tracked and tracked.cares_about(p)]
            if tracked is None or not hits or tracked.paused:
                continue
            if self.watcher.reports_closes:
                tracked.note_write(paths[0], paths[1], kind, at)
            life = any(tracked.is_venv_life(p) for p in hits)
            if life:
                self.refresh(tracked)
            venv = any(tracked.in_venv(p) for p in hits)
            if key in self._running and not life:  # judged when the action ends: an echo?
                tracked.heard = tracked.heard or tracked.trigger_for(hits[0])
                tracked.heard_venv |= venv
                tracked.last_event = max(tracked.last_event, at)
            elif life or tracked.dirty or changed(tracked, venv):
                self.mark(tracked, tracked.trigger_for(hits[0]), at)

    def _barrier(self, paths: list[str]) -> dict[str, Any]:
        for tracked in self.matching(paths):
            if tracked.key in self._running:
                tracked.heard = tracked.heard or "change found on disk"
                tracked.heard_venv = True
            elif not tracked.paused and changed(tracked, venv=True):
                self.mark(tracked, "change found on disk", time.monotonic())
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

    def _maybe_rescan(self) -> None:
        now = time.monotonic()
        everyone = now >= self._next_rescan
        polled = bool(self._polled) and now >= self._next_poll
        if not everyone and not polled:
            return
        if everyone:  # an edit of the config whose event was lost
            self.config_watch.saw(now - self.config.daemon.settle_seconds)
            self._next_rescan = now + self.rescan_seconds
        if polled:
            self._next_poll = now + POLL_SECONDS
        for key in list(self.tracked if everyone else self._polled):
            tracked = self.tracked.get(key)
            if tracked is None or tracked.paused or tracked.dirty or key in self._running:
                continue
            if changed(tracked, venv=True):
                self.mark(tracked, "rescan", now)

    # ---- handing projects to the action threads ------------------------------------------
    def _act_on_due(self) -> None:
        settle = self.config.daemon.settle_seconds
        if self.config_watch.due(settle) <= time.monotonic() and self.config_watch.changed():
            with contextlib.suppress(ConfigError):  # logged; the old config stays
                self.reload()
        now = time.monotonic()
        while len(self._running) < self.pool.size and self.due.first() <= now:
            if self.stopping.is_set():
                return
            tracked = self.tracked.get(self.due.pop())
            if tracked is None or not tracked.dirty or tracked.paused:
                continue
            if tracked.key in self._running:
                continue  # its action's end schedules it again
            if self._due_at(tracked) > now:
                self.schedule(tracked)
            else:
                self._dispatch(tracked, now)

    def _dispatch(self, tracked: Tracked, now: float) -> None:
        reason = still_written(tracked)  # sets its own time to look again
        venv = tracked.venv_real
        if reason is None and venv in (v for _, v in self._running.values()):
            reason = "another project's sync runs on its venv"
            tracked.recheck_at = now + BUSY_RECHECK
        if reason is not None:
            if tracked.message != f"waiting: {reason}":
                tracked.state, tracked.message = PENDING, f"waiting: {reason}"
                self.publish(tracked)
            self.schedule(tracked)
            return
        tracked.dirty = tracked.immediate = False
        tracked.heard, tracked.heard_venv = None, False
        self._running[tracked.key] = (tracked, venv)
        started = lambda: self.submit(lambda: self._started(tracked))  # noqa: E731
        job = Job(
            copy.copy(tracked),
            self.state_dir,
            self.config.daemon,
            self.stopping,
            started,
            self.config.file,
        )
        self.pool.submit(lambda: self._act(job, tracked))

    def _act(self, job: Job, tracked: Tracked) -> None:
        """On an action thread: the project's action; its end goes back to the coordinator."""
        finished = run_job(job)
        self.submit(lambda: self._finished(tracked, finished))

    def _started(self, tracked: Tracked) -> dict[str, Any]:
        if self._running.get(tracked.key, (None, ""))[0] is tracked:
            tracked.state, tracked.message = SYNCING, tracked.trigger
            self.publish(tracked)
        return {}

    def _finished(self, tracked: Tracked, finished: Finished) -> dict[str, Any]:
        self._running.pop(tracked.key, None)
        current = self.tracked.get(tracked.key)
        if self.stopping.is_set() or current is not tracked:  # stopping, or replaced
            if finished.outcome is not None and finished.outcome.state != "in-sync":
                why = finished.outcome.message or finished.outcome.state
                log.info("%s: its sync ended at stop: %s", tracked.key, why.splitlines()[0])
            if current is not None:
                self.schedule(current)
            return {}
        record(self, tracked, finished)
        self._route(tracked)
        heard, venv = tracked.heard, tracked.heard_venv
        tracked.heard, tracked.heard_venv = None, False
        if heard is not None and not tracked.dirty and changed(tracked, venv):
            self.mark(tracked, heard, tracked.last_event)
        self.schedule(tracked)
        self.publish(tracked)
        return {}

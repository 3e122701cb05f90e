"""Filesystem watches: one watchdog Observer, one non-recursive schedule per folder.

watchdog callbacks only hand `(src, dest)` paths to the daemon's callback, which enqueues.
Scheduling the same folder twice with different filters makes the last inotify mask win for
both (watchdog#275), so a folder is scheduled once, whatever number of projects share it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchdog.events
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

log = logging.getLogger("venvsyncd.watch")

# chmod, where watchdog reports it apart (7.x); older versions report it as a modification.
_ATTRIB: type[FileSystemEvent] | None = getattr(watchdog.events, "FileAttribEvent", None)

# Writes, creations, deletions, renames and chmod (a read-only file made writable); never
# opens or reads (our own reads of a file would otherwise wake us up).
WATCHED_EVENTS: list[type[FileSystemEvent]] = [
    *([_ATTRIB] if _ATTRIB is not None else []),
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
]

# What happened at a path, as the daemon needs to know it: "written" (created or written
# to: the writer may still hold it open), "closed" (a writer closed it after writing),
# "gone" (deleted or renamed away; a rename's destination is complete), else "changed".
PathCallback = Callable[[str, str | None, str], None]


def _kind(event: FileSystemEvent) -> str:
    if isinstance(event, FileClosedEvent):
        return "closed"
    if isinstance(event, FileModifiedEvent | FileCreatedEvent):
        return "written"
    if isinstance(event, FileDeletedEvent | FileMovedEvent):
        return "gone"
    return "changed"


def closes_are_reported(observer: BaseObserver | None) -> bool:
    """Does this platform's observer report close-after-write (inotify does; FSEvents and
    ReadDirectoryChangesW do not)? Only then can an open writer be told from a finished one."""
    return observer is not None and type(observer).__name__ == "InotifyObserver"


def _text(path: bytes | str) -> str:
    return os.fsdecode(path)


class _Forward(FileSystemEventHandler):
    def __init__(self, callback: PathCallback) -> None:
        self._callback = callback
        # The watched folders. A folder's own "modified" event only repeats its child's
        # event, but would look like the venv itself changed (and defeat the echo check),
        # so it is not forwarded. Replaced whole, never mutated: read without a lock.
        self.roots: frozenset[str] = frozenset()

    def on_any_event(self, event: FileSystemEvent) -> None:
        src = _text(event.src_path)
        if isinstance(event, DirModifiedEvent) and src in self.roots:
            return
        dest = _text(event.dest_path) if event.dest_path else None
        self._callback(src, dest, _kind(event))


class Watcher:
    """Keeps exactly one watch on each folder it is told about."""

    def __init__(self, callback: PathCallback) -> None:
        self._handler = _Forward(callback)
        self._watches: dict[Path, ObservedWatch] = {}
        self._lock = threading.Lock()
        self.unavailable: OSError | None = None  # inotify could not be had at all (EMFILE)
        try:
            self._observer: BaseObserver | None = Observer()
        except OSError as exc:
            self._observer, self.unavailable = None, exc
            log.warning("no inotify instance (%s): every project will be polled", exc)
        self.reports_closes = closes_are_reported(self._observer)

    def start(self) -> None:
        if self._observer is not None:
            self._observer.start()

    def stop(self) -> None:
        if self._observer is None:
            return
        self._observer.stop()
        if self._observer.is_alive():
            self._observer.join(timeout=5)

    @property
    def folders(self) -> set[Path]:
        with self._lock:
            return set(self._watches)

    def set_folders(self, wanted: Iterable[Path]) -> dict[Path, OSError]:
        """Watch exactly `wanted`; the folders that could not be watched, with why."""
        wanted = set(wanted)
        if self._observer is None:
            assert self.unavailable is not None
            return dict.fromkeys(wanted, self.unavailable)
        failed: dict[Path, OSError] = {}
        with self._lock:
            for folder in set(self._watches) - wanted:
                self._unschedule(folder)
            for folder in sorted(wanted - set(self._watches)):
                try:
                    self._watches[folder] = self._observer.schedule(
                        self._handler, str(folder), recursive=False, event_filter=WATCHED_EVENTS
                    )
                except OSError as exc:
                    failed[folder] = exc
            self._handler.roots = frozenset(map(str, self._watches))
        return failed

    def rewatch(self, folder: Path) -> None:
        """Drop a folder's watch (it was deleted or replaced); `set_folders` makes a new one."""
        with self._lock:
            self._unschedule(folder)

    def _unschedule(self, folder: Path) -> None:
        watch = self._watches.pop(folder, None)
        self._handler.roots = frozenset(map(str, self._watches))
        if watch is None or self._observer is None:
            return
        try:
            self._observer.unschedule(watch)
        except (KeyError, OSError) as exc:  # the folder is gone: its watch went with it
            log.debug("unschedule %s: %s", folder, exc)

"""Filesystem watches: one non-recursive watch per folder, whatever number of projects share it.

On Linux, one watchdog `InotifyFD` (one inotify instance, one reader thread) carries every
watch; each folder is a `WatchCallback` on it (`_Folder`), which turns inotify's events into
`(path, None, kind)` for the daemon's callback, which enqueues. watchdog's Observer would add
an emitter thread per watch (`schedule()`): 6,004 threads and 49 GB of virtual memory for
3,000 projects; this way the daemon has 1 reader thread for any number (at 3,000 projects,
9,000 watches: 8 threads in all). Its emitters also hold an unpaired IN_MOVED_FROM 0.5 s to
pair it with an IN_MOVED_TO, and every later event of the watch waits behind it (pip moves a
single-file module such as `six.py` out of site-packages to uninstall it); here a move's two
halves are passed on at once, each for what it is: "gone" from its folder, "moved-in" (a
finished file) in the other. Elsewhere (FSEvents, ReadDirectoryChangesW), or with a watchdog
older than 7.1, an Observer with one schedule per folder: scheduling a folder twice with
different filters makes the last inotify mask win for both (watchdog#275).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from watchdog.observers.api import BaseObserver

if TYPE_CHECKING:
    from watchdog.observers.inotify_c import InotifyEvent, InotifyFD, WatchDescriptor

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
# "gone" (deleted or renamed away; a rename's destination is complete), "moved-in" (a
# complete file renamed to the path), else "changed".
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


def _inotify_kind(event: InotifyEvent) -> str | None:
    """What an inotify event in a watched folder is for the daemon (None: nothing)."""
    if event.is_directory:  # a folder in it made, removed or renamed; not its chmod
        return "changed" if event.is_create or event.is_delete or event.is_move else None
    if event.is_close_write:
        return "closed"
    if event.is_create or event.is_modify:
        return "written"
    if event.is_delete or event.is_moved_from:
        return "gone"
    if event.is_moved_to:
        return "moved-in"
    return "changed" if event.is_attrib else None


class _Folder:
    """One watched folder on the shared inotify instance (a watchdog `WatchCallback`)."""

    def __init__(self, folder: str, watcher: Watcher) -> None:
        self.folder = folder
        self.wd: WatchDescriptor | None = None
        self._watcher = watcher

    def on_event(self, event: InotifyEvent) -> None:
        if not event.name:  # the folder itself: only its removal matters
            if event.is_delete_self or event.is_move_self:
                self._watcher.callback(self.folder, None, "changed")
            return
        kind = _inotify_kind(event)
        if kind is not None:
            path = os.path.join(self.folder, os.fsdecode(event.name))  # noqa: PTH118 (a str)
            self._watcher.callback(path, None, kind)

    def on_watch_deleted(self, wd: WatchDescriptor) -> None:
        self._watcher.lost(self, wd)

    def on_queue_overflow(self) -> None:
        pass  # watchdog logs it once; the daemon's rescan finds what was lost


def _inotify_fd() -> InotifyFD | None:
    """An inotify instance of watchdog's own that carries many watches (7.1+), else None."""
    try:
        from watchdog.observers.inotify_c import InotifyFD
    except ImportError:
        return None
    return InotifyFD()


def _mask() -> int:
    from watchdog.observers.inotify_c import InotifyConstants as C

    return (
        C.IN_ATTRIB | C.IN_CREATE | C.IN_DELETE | C.IN_MODIFY | C.IN_MOVED_FROM | C.IN_MOVED_TO
    ) | (C.IN_CLOSE_WRITE | C.IN_DELETE_SELF | C.IN_MOVE_SELF | C.IN_DONT_FOLLOW)


class Watcher:
    """Keeps exactly one watch on each folder it is told about."""

    def __init__(self, callback: PathCallback) -> None:
        self.callback = callback
        self._handler = _Forward(callback)
        self._watches: dict[Path, Any] = {}  # folder -> its `_Folder` or `ObservedWatch`
        self._lock = threading.Lock()
        self.unavailable: OSError | None = None  # inotify could not be had at all (EMFILE)
        self._inotify: InotifyFD | None = None
        self._observer: BaseObserver | None = None
        try:
            if sys.platform.startswith("linux"):
                self._inotify = _inotify_fd()
            if self._inotify is None:
                self._observer = Observer()
        except OSError as exc:
            self.unavailable = exc
            log.warning("no inotify instance (%s): every project will be polled", exc)
        shared = self._inotify is not None
        self.reports_closes = shared or closes_are_reported(self._observer)

    def start(self) -> None:
        if self._inotify is not None:
            self._inotify.start()
        elif self._observer is not None:
            self._observer.start()

    def stop(self) -> None:
        running = self._inotify or self._observer
        if running is None:
            return
        running.stop()
        if running.is_alive():
            running.join(timeout=5)

    @property
    def folders(self) -> set[Path]:
        with self._lock:
            return set(self._watches)

    def watching(self, folders: Iterable[Path]) -> bool:
        """Are all of `folders` watched?"""
        with self._lock:
            return all(f in self._watches for f in folders)

    def set_folders(self, wanted: Iterable[Path]) -> dict[Path, OSError]:
        """Watch exactly `wanted`; the folders that could not be watched, with why."""
        wanted = set(wanted)
        with self._lock:
            for folder in set(self._watches) - wanted:
                self._unschedule(folder)
        return self.add_folders(wanted)

    def add_folders(self, folders: Iterable[Path]) -> dict[Path, OSError]:
        """Watch `folders` too (the watches others have stay); those that could not be."""
        if self.unavailable is not None:
            return dict.fromkeys(folders, self.unavailable)
        failed: dict[Path, OSError] = {}
        with self._lock:
            for folder in sorted(set(folders) - set(self._watches)):
                try:
                    self._watches[folder] = self._schedule(folder)
                except OSError as exc:
                    failed[folder] = exc
            self._handler.roots = frozenset(map(str, self._watches))
        return failed

    def _schedule(self, folder: Path) -> Any:
        if self._inotify is not None:
            from watchdog.observers.inotify_c import CallbackId, Mask

            watch = _Folder(str(folder), self)
            path, mask = os.fsencode(folder), Mask(_mask())
            watch.wd = self._inotify.add_callback(path, mask, watch, CallbackId(id(watch)))
            return watch
        assert self._observer is not None
        return self._observer.schedule(
            self._handler, str(folder), recursive=False, event_filter=WATCHED_EVENTS
        )

    def lost(self, watch: _Folder, wd: WatchDescriptor) -> None:
        """The kernel dropped a folder's watch (the folder is gone): it is no longer watched,
        so the daemon's next look at the project watches it again."""
        with self._lock:
            folder = Path(watch.folder)
            if self._watches.get(folder) is watch and watch.wd == wd:
                del self._watches[folder]

    def rewatch(self, folder: Path) -> None:
        """Drop a folder's watch (it was deleted or replaced); `set_folders` makes a new one."""
        with self._lock:
            self._unschedule(folder)

    def _unschedule(self, folder: Path) -> None:
        watch = self._watches.pop(folder, None)
        self._handler.roots = frozenset(map(str, self._watches))
        try:
            if isinstance(watch, _Folder) and self._inotify is not None and watch.wd is not None:
                from watchdog.observers.inotify_c import CallbackId

                self._inotify.remove_callbacks([(watch.wd, CallbackId(id(watch)))])
            elif watch is not None and self._observer is not None:
                self._observer.unschedule(watch)
        except (KeyError, OSError) as exc:  # the folder is gone: its watch went with it
            log.debug("unschedule %s: %s", folder, exc)

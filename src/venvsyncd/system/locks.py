"""Advisory file locks: the same calls on every system (flock on POSIX, msvcrt on Windows).

`holding` waits for an exclusive lock and keeps it for a block; `try_lock` takes one without
waiting on an open descriptor (None when another holder has it); `is_locked` asks whether
someone holds one, without creating the file. A lock is released when its descriptor closes,
so a killed holder never leaves one behind.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover - exercised under wine (Windows issue)
    import msvcrt

    def _lock(fd: int, wait: bool) -> None:
        mode = msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK
        while True:
            try:
                msvcrt.locking(fd, mode, 1)
                return
            except OSError:
                if not wait:
                    raise BlockingIOError from None  # held by another

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, wait: bool) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def holding(path: Path) -> Iterator[None]:
    """Wait for an exclusive lock on `path` (created if missing) and hold it for the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        _lock(fd, wait=True)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open `fd` without waiting; False when another has it."""
    try:
        _lock(fd, wait=False)
    except BlockingIOError:
        return False
    return True


def is_locked(path: Path) -> bool:
    """Does someone hold a lock on `path`? Never creates it; False when it cannot be told.
    A lock this very process holds through another descriptor counts as held."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        if not try_lock(fd):
            return True
        _unlock(fd)
        return False
    except OSError:
        return False
    finally:
        os.close(fd)

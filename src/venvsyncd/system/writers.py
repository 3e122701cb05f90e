"""Does some process still hold a file open for writing? (Linux: /proc; elsewhere unknown.)

The daemon learns that a writer closed the requirements file from inotify's close-after-write
event. This is the check behind it, for when that event cannot be relied on (a queue
overflow, a file moved in): it reads the open descriptors of the processes it may see.
"""

# str paths and os calls on purpose: /proc is no place for Path.
# ruff: noqa: PTH112, PTH116, PTH118, PTH208

from __future__ import annotations

import os

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR


def open_for_writing(path: str) -> bool | None:
    """True when a process holds `path` open for writing, False when none does, None when
    this system cannot tell (no /proc)."""
    if not os.path.isdir("/proc/self/fd"):
        return None
    try:
        info = os.stat(path)
    except OSError:
        return False
    for pid in os.listdir("/proc"):
        if pid.isdigit() and _holds(pid, (info.st_dev, info.st_ino)):
            return True
    return False


def _holds(pid: str, file_id: tuple[int, int]) -> bool:
    folder = f"/proc/{pid}/fd"
    try:
        descriptors = os.listdir(folder)
    except OSError:  # gone, or another user's
        return False
    for fd in descriptors:
        try:
            held = os.stat(os.path.join(folder, fd))
        except OSError:
            continue
        if (held.st_dev, held.st_ino) == file_id and _writable(pid, fd):
            return True
    return False


def _writable(pid: str, fd: str) -> bool:
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}") as info:
            for line in info:
                if line.startswith("flags:"):
                    return bool(int(line.split()[1], 8) & _WRITE_FLAGS)
    except (OSError, ValueError, IndexError):
        return False
    return False

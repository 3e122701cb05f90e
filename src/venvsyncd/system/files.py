"""The one way venvsyncd writes a file: atomically, keeping a user's file's mode (venvsyncd's
own files get the mode asked for, `private.PRIVATE_FILE`)."""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_TEMP_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")  # what mkstemp draws from


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `data`: temp file in the same folder, fsync, `os.replace`.

    A reader sees the old bytes or the new ones, never a mix. A user's file (`mode` None): its
    permission bits are kept (a new file gets the umask's default), and a symlink is written
    through to its target. venvsyncd's own file: `mode` is the file's bits (0600, created so,
    never wider meanwhile), and a symlink at `path` is replaced, never followed.
    An OSError names `path` when the system did not name a file (a full disk, EFBIG).
    """
    target = path.resolve() if mode is None and path.is_symlink() else path
    with naming_errors(path):
        tmp_name = write_temp(target, data, mode)
        try:
            replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
    _fsync_dir(target.parent)


_SHARING_RETRIES = 20  # Windows: ~1 s of 50 ms waits while another program holds the file


def replace(source: str, target: Path) -> None:
    """`os.replace`, retried for about a second on Windows while another program (an editor,
    an antivirus) holds `target` open without sharing it (a sharing violation)."""
    for attempt in range(_SHARING_RETRIES):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if sys.platform != "win32" or attempt == _SHARING_RETRIES - 1:
                raise
            time.sleep(0.05)


def write_temp(target: Path, data: bytes, mode: int | None = None) -> str:
    """Write `data` to a new temp file beside `target` and return its name.

    The name is `.NAME.XXXXXXXX.tmp` (what `remove_stale_temps` sweeps); the bytes are fsynced;
    the permission bits are `mode`, else `target`'s, or the umask's default when `target` does
    not exist. The temp file is made 0600 (mkstemp), so it is never wider than asked.
    If writing fails the temp file is removed.
    """
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(target.stat().st_mode)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp_name, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return tmp_name


@contextlib.contextmanager
def naming_errors(path: Path) -> Iterator[None]:
    """Let an OSError raised inside name `path` when the system did not name a file."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise


def remove_stale_temps(path: Path) -> None:
    """Delete the temp files that `atomic_write(path, ...)` calls killed mid-write left.

    Only names `atomic_write` makes (`.NAME.XXXXXXXX.tmp`) are touched; the caller makes sure
    no other write of `path` is under way (venvsyncd holds the project lock).
    """
    start = len(path.name) + 2
    for temp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        random = temp.name[start:-4]
        if len(random) == 8 and set(random) <= _TEMP_CHARS:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""Compare-and-swap replace of a user's file: write only if it still holds what was read.

The sync reads requirements.txt, plans, maybe installs, then rewrites it; a save the user made
meanwhile must not be lost. On Linux `renameat2(RENAME_EXCHANGE)` puts the new bytes in place
and leaves the displaced inode at the temp name. It is dropped only if nobody holds it open for
writing (a read lease is granted) and it holds the bytes that were read; otherwise the exchange
is undone, so the path is again the racing writer's very inode (a program holding it open keeps
writing into the file), and whatever reached the new bytes meanwhile is handed back.

Elsewhere, or on a filesystem without exchange, the file is compared once more and replaced
with `os.replace`. That leaves a window: a save landing between the last compare and the
replace is lost, and so are bytes written later through a descriptor opened before it. Where
leases cannot be taken (not the owner, leases off, NFS) the exchange path keeps the second gap.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, cast

from venvsyncd.system.files import _fsync_dir, naming_errors, replace, write_temp

_AT_FDCWD = -100
_RENAME_EXCHANGE = 1 << 1
_NO_EXCHANGE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP})
_NO_LINK = frozenset({errno.EPERM, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP})
_SETTLE_SECONDS = 1.0  # how long a moved-away file may stay open for writing before it is read

Stage = Callable[[str], None]


class SwapResult(NamedTuple):
    written: bool  # the file now holds `new`
    found: bytes | None  # when not written: what the file holds instead (None: it does not exist)
    displaced: tuple[bytes, ...] = ()  # a racer's bytes this call moved away and could not put back


def compare_and_swap(
    path: Path,
    new: bytes,
    expected: bytes | None,
    *,
    exchange: bool = True,
    _between: Stage | None = None,
) -> SwapResult:
    """Make `path` hold `new` if it holds `expected` (None: if it does not exist).

    Not written: `found` says what the file holds instead; `found == expected` means another
    program holds the file open for writing (try again later: writing now would lose its
    next bytes). `displaced` is content a racing
    writer put there that could not be put back; the caller keeps it. A symlink is written
    through to its target. `exchange=False` forces the portable compare-then-replace path.
    `_between(stage)` is a test seam, called with "compared" and "exchanged" (before undoing).
    """
    target = path.resolve() if path.is_symlink() else path
    between = _between or (lambda stage: None)
    with naming_errors(path):
        current = _read(target)
        if current != expected:
            return SwapResult(False, current)
        tmp = write_temp(target, new)
        try:
            between("compared")
            if expected is None:
                result = _create(tmp, target)
            elif exchange:
                result = _swap(tmp, target, new, expected, between)
            else:
                result = _replace_if(tmp, target, expected)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    if result.written:
        _fsync_dir(target.parent)
    return result


def _swap(tmp: str, target: Path, new: bytes, expected: bytes, between: Stage) -> SwapResult:
    """Exchange `tmp` (holding `new`) with `target`; undo it if a writer got in."""
    try:
        exchanged = _exchange(tmp, target)
    except FileNotFoundError:  # the file was removed since it was compared
        return SwapResult(False, _read(target))
    if not exchanged:
        return _replace_if(tmp, target, expected)
    if not _open_for_writing(tmp) and _read(Path(tmp)) == expected:
        return SwapResult(True, None)
    between("exchanged")
    try:
        _exchange(tmp, target)  # put the racer's inode back at the path
    except FileNotFoundError:  # ... unless the path was removed meanwhile: keep its bytes
        moved = _settled_read(tmp)
        return SwapResult(False, _read(target), (moved,) if moved is not None else ())
    back = _settled_read(tmp)  # a writer may have opened the path while `new` was there
    lost = (back,) if back is not None and back != new else ()
    return SwapResult(False, _read(target), lost)


def _settled_read(name: str) -> bytes | None:
    """Read `name` once no program holds it open for writing, waiting up to about a second.

    Bytes written to it after that (a writer holding it open longer) are lost.
    """
    pause = 0.001
    deadline = time.monotonic() + _SETTLE_SECONDS
    while _open_for_writing(name) and time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    return _read(Path(name))


def _open_for_writing(name: str) -> bool:
    """Whether some program holds `name` open for writing (Linux: a read lease is refused).

    False when that cannot be told (leases off, not the file's owner, a network filesystem).
    """
    import fcntl  # POSIX only; this runs after a Linux exchange

    try:
        fd = os.open(name, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)  # a lease break must not send SIGIO
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)  # closing the fd releases it
    except OSError as exc:
        return exc.errno == errno.EAGAIN
    finally:
        os.close(fd)
    return False


def _create(tmp: str, target: Path) -> SwapResult:
    """Give `tmp` the name `target` only if nothing has that name (a hard link fails if so)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        return SwapResult(False, _read(target))
    except OSError as exc:  # a filesystem without hard links
        if exc.errno not in _NO_LINK:
            raise
        return _replace_if(tmp, target, None)
    return SwapResult(True, None)


def _replace_if(tmp: str, target: Path, expected: bytes | None) -> SwapResult:
    """The portable path: compare once more, then `os.replace` (a save in between is lost)."""
    current = _read(target)
    if current != expected:
        return SwapResult(False, current)
    replace(tmp, target)  # retried while Windows reports a sharing violation
    return SwapResult(True, None)


def _exchange(a: str, b: Path) -> bool:
    """Atomically swap the names `a` and `b`; False if this system or filesystem cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), a, None, str(b))


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's `renameat2`, or None when not on Linux or the C library lacks it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        func = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return cast("Callable[..., int]", func)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None

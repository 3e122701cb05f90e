"""venvsyncd's own folders and files (state, journals, logs): the user's alone.

`private_dir` makes a folder, and the folders from `root` (venvsyncd's top folder, such as
`~/.local/state/venvsyncd`) down to it, mode 0700, or finds them so. A folder of ours with
looser bits is tightened to 0700 (an older venvsyncd made them with the umask's bits); one
that is another user's, a symlink, not a folder, or writable by every user (anyone may have put
something in it) is refused with `NotPrivate`. Each step is opened relative to the one before
with O_NOFOLLOW, so a symlink planted on the way is never followed. `open_private_file` opens or
creates a file 0600 the same way; `system.files.atomic_write(..., mode=PRIVATE_FILE)` replaces one.

The folders above `root` are the user's choice ($XDG_STATE_HOME may be a shared folder like
/tmp): made 0700 when missing, followed, not judged, except that one writable by every user
without the sticky bit is refused (anyone could swap `root` there). On Windows the profile's
folders are private by their ACL; only symlinks and non-folders are refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

_POSIX = os.name == "posix"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class NotPrivate(OSError):
    """A folder or file of venvsyncd's that is not the user's alone. `message` names it and
    says what is wrong, `hint` what to do."""

    def __init__(self, path: Path, problem: str, hint: str) -> None:
        super().__init__(errno.EPERM, problem, str(path))
        self.message = f"{path} {problem}"
        self.hint = hint


def private_dir(path: Path, root: Path | None = None) -> Path:
    """Make `path` and every folder from `root` (default: `path`) down to it private (0700,
    ours, no symlink); `NotPrivate` for one that cannot be. `path` must be under `root`."""
    _walk(path, root, create=True)
    return path


def private_dir_exists(path: Path, root: Path | None = None) -> bool:
    """Are `path` and the folders from `root` down to it there (and private)? False when one
    is missing: nothing is created. `NotPrivate` for one that is there and not private."""
    return _walk(path, root, create=False)


def open_private_file(path: Path, flags: int) -> int:
    """A descriptor of `path` opened with `flags`, created 0600 when missing. Never through a
    symlink; a file of another user's or not a regular file is refused (`NotPrivate`), one of
    ours with looser bits is tightened to 0600. Its folder is the caller's (`private_dir`)."""
    if not _NOFOLLOW and path.is_symlink():  # Windows: no O_NOFOLLOW
        raise _symlink(path, "file")
    try:
        fd = os.open(path, flags | os.O_CREAT | _NOFOLLOW | _CLOEXEC, PRIVATE_FILE)
    except OSError:
        if path.is_symlink():
            raise _symlink(path, "file") from None
        if path.exists() and not path.is_file():
            raise NotPrivate(path, "is not a regular file", f"move it away {_MAKES}") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotPrivate(path, "is not a regular file", f"move it away {_MAKES}")
        if _POSIX:
            _refuse_others(path, info)
            if stat.S_IMODE(info.st_mode) != PRIVATE_FILE:
                os.fchmod(fd, PRIVATE_FILE)
    except BaseException:
        os.close(fd)
        raise
    return fd


_MAKES = "and venvsyncd makes its own there, for you alone"
_ELSEWHERE = "or point XDG_STATE_HOME at a folder of yours"


def _walk(path: Path, root: Path | None, create: bool) -> bool:
    path = Path(os.path.abspath(path))
    top = path if root is None else Path(os.path.abspath(root))
    steps = (top.name, *path.relative_to(top).parts)
    if create:
        _make_missing(top.parent)
    if not _POSIX:
        return _walk_windows(top.parent, steps, create)
    try:
        fd = os.open(top.parent, os.O_RDONLY | _DIRECTORY | _CLOEXEC)  # the user's: followed
    except FileNotFoundError:
        if create:
            raise
        return False
    try:
        _refuse_swappable(top.parent, os.fstat(fd))
        here = top.parent
        for name in steps:
            here = here / name
            child = _enter(fd, name, here, create)
            if child is None:
                return False
            os.close(fd)
            fd = child
    finally:
        os.close(fd)
    return True


def _make_missing(folder: Path) -> None:
    """Make `folder` and its missing parents 0700 (what the XDG spec asks for)."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile, or a dangling symlink
            each.mkdir(PRIVATE_DIR)


def _enter(parent_fd: int, name: str, here: Path, create: bool) -> int | None:
    """A descriptor of the folder `name` in `parent_fd` (made when missing and `create`),
    judged; None when it is missing and not to be made."""
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, PRIVATE_DIR, dir_fd=parent_fd)
    try:
        fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=parent_fd)
    except FileNotFoundError:
        if create:
            raise
        return None
    except OSError:
        kind = os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode
        if stat.S_ISLNK(kind):
            raise _symlink(here, "folder") from None
        if not stat.S_ISDIR(kind):
            raise NotPrivate(here, "is not a folder", f"move it away {_MAKES}") from None
        raise
    try:
        _judge_folder(here, fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _judge_folder(here: Path, fd: int) -> None:
    info = os.fstat(fd)
    _refuse_others(here, info)
    mode = stat.S_IMODE(info.st_mode)
    if mode & stat.S_IWOTH:
        raise NotPrivate(
            here,
            f"is writable by every user (mode {mode:04o}), so what is in it may not be venvsyncd's",
            f"look at what is in it, then remove it {_MAKES} "
            f"(or `chmod 700 {here}` if all of it is yours)",
        )
    if mode != PRIVATE_DIR:
        os.fchmod(fd, PRIVATE_DIR)


def _refuse_others(path: Path, info: os.stat_result) -> None:
    if info.st_uid == os.geteuid():
        return
    raise NotPrivate(
        path,
        f"belongs to another user ({_user(info.st_uid)}), not to you ({_user(os.geteuid())}), "
        "so venvsyncd neither reads nor writes it",
        f"trust nothing in it: have its owner or an administrator remove it {_MAKES}; {_ELSEWHERE}",
    )


def _refuse_swappable(folder: Path, info: os.stat_result) -> None:
    mode = stat.S_IMODE(info.st_mode)
    if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        raise NotPrivate(
            folder,
            f"is writable by every user and not sticky (mode {mode:04o}), so another user "
            "could swap venvsyncd's folder in it",
            f"make it sticky as /tmp is (chmod +t {folder}) or not writable by others "
            f"(chmod o-w {folder}), {_ELSEWHERE}",
        )


def _symlink(path: Path, kind: str) -> NotPrivate:
    return NotPrivate(
        path,
        f"is a symlink, and venvsyncd follows none in its own folders "
        f"(a planted one would send its {'writes' if kind == 'file' else 'state or log'} "
        "elsewhere)",
        f"remove it (rm {path}) {_MAKES}"
        + ("" if kind == "file" else f"; to keep it elsewhere, {_ELSEWHERE.removeprefix('or ')}"),
    )


def _user(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _walk_windows(above: Path, steps: tuple[str, ...], create: bool) -> bool:
    here = above
    for name in steps:
        here = here / name
        if here.is_symlink() or _is_junction(here):
            raise _symlink(here, "folder")
        if create:
            with contextlib.suppress(FileExistsError):
                here.mkdir()
        if not here.exists():
            return False
        if not here.is_dir():
            raise NotPrivate(here, "is not a folder", f"move it away {_MAKES}")
    return True


def _is_junction(path: Path) -> bool:
    isjunction = getattr(os.path, "isjunction", None)  # Python 3.12+
    return bool(isjunction(path)) if isjunction is not None else False

"""Where the daemon listens, and who may talk to it: a private runtime folder, one daemon per
user (a lock), a socket that a killed daemon's leftover does not block, peers of our uid only.

On Windows the daemon listens on a named pipe instead (`pipes.py`, named after the socket's
path); the lock file and the runtime folder are the same. `listen` picks the transport.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Protocol

from venvsyncd.errors import VenvsyncdError
from venvsyncd.system.locks import try_lock
from venvsyncd.wire import client

log = logging.getLogger("venvsyncd.ipc")


LOCK_NAME = "venvsyncd.lock"


STARTING_GRACE = 5.0  # how long a second daemon waits for the first one to answer ping


class DaemonAlreadyRunning(VenvsyncdError):
    """Another daemon of this user answers on the socket."""

    exit_code = 1

    def __init__(self, pid: int | None, socket_path: Path) -> None:
        who = f"pid {pid}" if pid is not None else "another process"
        super().__init__(
            f"a venvsyncd daemon is already running ({who}, on {client.address(socket_path)})",
            hint="`venvsyncd status` asks it; `venvsyncd stop` stops it",
        )
        self.pid = pid


def peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process at the other end, or None where the platform cannot say."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    import struct

    size = struct.calcsize("iII")  # struct ucred: pid_t, uid_t, gid_t
    _pid, uid, _gid = struct.unpack("iII", conn.getsockopt(socket.SOL_SOCKET, option, size))
    return int(uid)


def peer_allowed(conn: socket.socket, uid: int) -> bool:
    """True unless the platform tells us the peer runs as a user other than `uid`."""
    found = peer_uid(conn)
    return found is None or found == uid


def ensure_private_dir(folder: Path) -> None:
    """Create `folder` with mode 0700, or tighten an existing one of ours to 0700.

    Windows: created only; it lies in the user's profile, whose ACL already keeps others out,
    and the pipe carries its own (`pipes.py`).
    """
    with contextlib.suppress(FileExistsError):  # a file of that name: said below
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise VenvsyncdError(f"{folder}: is not a folder", hint="remove it or fix XDG_RUNTIME_DIR")
    if sys.platform == "win32":
        return
    if info.st_uid != os.geteuid():
        raise VenvsyncdError(
            f"{folder}: belongs to uid {info.st_uid}, not to this user ({os.geteuid()})",
            hint="point XDG_RUNTIME_DIR at a folder of your own",
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(folder, 0o700)


def acquire_lock(lock_path: Path, socket_path: Path) -> int:
    """An fd holding an exclusive lock on `lock_path` (flock; msvcrt on Windows); a daemon
    already holding it is named."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        taken = try_lock(fd)
    except BaseException:
        os.close(fd)
        raise
    if not taken:
        os.close(fd)
        raise DaemonAlreadyRunning(_wait_for_pid(socket_path), socket_path)
    return fd


def _wait_for_pid(socket_path: Path) -> int | None:
    """The pid of the daemon that holds the lock, once it answers (it may still be binding)."""
    deadline = time.monotonic() + STARTING_GRACE
    while True:
        try:
            pid = client.ping(socket_path)
        except VenvsyncdError:  # it listens but does not answer (yet)
            pid = None
        if pid is not None or time.monotonic() >= deadline:
            return pid
        time.sleep(0.05)


def refuse_if_answered(path: Path) -> None:
    """Raise DaemonAlreadyRunning if a daemon answers on `path` (VenvsyncdError when something
    listens there but does not answer as venvsyncd)."""
    pid = client.ping(path)
    if pid is not None:
        raise DaemonAlreadyRunning(pid, path)


def claim_socket(path: Path) -> None:
    """Make `path` free to bind: raise DaemonAlreadyRunning if a daemon answers there,
    else remove a stale socket (or other file) left by a daemon that died."""
    refuse_if_answered(path)
    if os.path.lexists(path):
        if path.is_dir() and not path.is_symlink():
            raise VenvsyncdError(f"{path}: is a folder, not a socket", hint="remove it")
        log.info("removing the stale socket %s", path)
        os.unlink(path)


def bind_socket(path: Path) -> socket.socket:
    """A listening AF_UNIX socket at `path`, created with mode 0600."""
    if sys.platform == "win32":  # the daemon listens on a named pipe there (`listen`)
        raise VenvsyncdError("Unix sockets are not used on Windows")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # process-wide, briefly: the folder is 0700 anyway
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise VenvsyncdError(f"cannot bind the socket {path}: {exc.strerror or exc}") from None
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


class Listener(Protocol):
    """What the server accepts connections from: the Unix socket, or the Windows pipe."""

    def accept(self) -> client.Connection | None:
        """The next connection; None when woken, or when there is nothing to serve after all."""

    def allowed(self, conn: client.Connection) -> bool:
        """May this peer talk to us? (The pipe's DACL has already decided.)"""

    def wake(self) -> None:
        """Make a blocked `accept` return None; any thread may call it."""

    def close(self) -> None: ...


def listen(path: Path) -> Listener:
    """The daemon's endpoint for the socket path `path`, ready to accept: the Unix socket, or on
    Windows the named pipe of that path. DaemonAlreadyRunning when a daemon answers there."""
    if sys.platform == "win32":
        from venvsyncd.wire import pipes

        name = pipes.pipe_name(path)
        refuse_if_answered(path)
        try:
            return pipes.PipeListener(name)
        except PermissionError:  # FILE_FLAG_FIRST_PIPE_INSTANCE: the name is someone else's
            raise VenvsyncdError(
                f"another program holds the pipe {name}",
                hint="a program of another user made it first; venvsyncd does not share it",
            ) from None
        except OSError as exc:
            raise VenvsyncdError(f"cannot create the pipe {name}: {exc.strerror or exc}") from None
    return SocketListener(path)


class SocketListener:
    """The Unix socket at `path`, bound with mode 0600 after `claim_socket`, until `close()`."""

    def __init__(self, path: Path) -> None:
        import selectors

        self.path = path
        self._wake_r, self._wake_w = socket.socketpair()
        try:
            claim_socket(path)
            self._sock = bind_socket(path)
        except BaseException:
            self._wake_r.close()
            self._wake_w.close()
            raise
        self._inode = path.stat().st_ino
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._sock, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)

    def accept(self) -> socket.socket | None:
        if not any(key.fileobj is self._sock for key, _ in self._selector.select()):
            return None  # woken
        conn, _ = self._sock.accept()
        return conn

    def allowed(self, conn: socket.socket) -> bool:
        if sys.platform == "win32":  # never here: Windows listens on a named pipe
            return False
        return peer_allowed(conn, os.geteuid())

    def wake(self) -> None:
        self._wake_w.send(b"x")

    def close(self) -> None:
        """Close the socket and unlink it if the path is still ours (not a newer daemon's)."""
        self._selector.close()
        self._sock.close()
        self._wake_r.close()
        self._wake_w.close()
        with contextlib.suppress(FileNotFoundError):
            if self.path.stat().st_ino == self._inode:
                os.unlink(self.path)

"""The daemon's endpoint on Windows: a named pipe where POSIX has the Unix socket.

The framing is the socket's (one JSON line each way, one request per connection), over a pipe
in byte mode. Every read, write and accept is overlapped, so each one has a deadline or can
be woken, as the socket's timeouts and wake-up do. The name comes from the runtime folder's
socket path (`pipe_name`), so each runtime folder has its own daemon, as on POSIX.

Who may talk to it. Every instance is created with a security descriptor that makes this
user's SID its owner and grants access to that SID alone (a protected DACL: no Administrators,
SYSTEM or Everyone entries), and with PIPE_REJECT_REMOTE_CLIENTS; the first instance uses
FILE_FLAG_FIRST_PIPE_INSTANCE, so a name another program holds fails instead of being shared.
The client opens the pipe at identification level only (a server cannot act as the client)
and talks only to a pipe owned by its own SID: one that another user created first is refused.
"""

from __future__ import annotations

import _winapi
import contextlib
import errno
import hashlib
import os
import sys
import time
from pathlib import Path
from types import TracebackType

from venvsyncd.wire import win32

assert sys.platform == "win32", "venvsyncd.wire.pipes is for Windows"  # mypy: Windows only

_BUFFER = 65536
_GENERIC_READ_WRITE = 0x80000000 | 0x40000000
_OPEN_EXISTING = 3
_ERROR_PIPE_BUSY = 231
_PIPE_REJECT_REMOTE_CLIENTS = 0x8
_SECURITY_IDENTIFICATION = 0x00110000  # SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION


def pipe_name(socket_path: Path) -> str:
    """`\\\\.\\pipe\\venvsyncd-<digest of the socket path>`: one pipe per runtime folder."""
    where = os.path.normcase(os.path.abspath(socket_path)).encode("utf-8", "surrogatepass")
    return "\\\\.\\pipe\\venvsyncd-" + hashlib.sha256(where).hexdigest()[:24]


class PipeChannel:
    """One end of a connected pipe, with the part of a socket's interface that the wire code
    uses: `settimeout`, `recv`, `sendall`, `shutdown`, `close`, and `with`."""

    def __init__(self, handle: int) -> None:
        self._handle: int | None = handle
        self._timeout: float | None = None

    def __enter__(self) -> PipeChannel:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def settimeout(self, timeout: float | None) -> None:
        """Seconds each later `recv` or `sendall` may wait (None: no limit)."""
        self._timeout = timeout

    def recv(self, size: int) -> bytes:
        """Up to `size` bytes; b"" once the other end has closed. TimeoutError after the
        timeout."""
        try:
            overlapped, error = _winapi.ReadFile(self._live(), size, overlapped=True)
            self._complete(overlapped, error)
        except BrokenPipeError:  # ERROR_BROKEN_PIPE: the writer closed; its bytes were read
            return b""
        return bytes(overlapped.getbuffer() or b"")

    def sendall(self, data: bytes) -> None:
        """Write all of `data`; BrokenPipeError when the reader has gone."""
        view = memoryview(data)
        while view:
            overlapped, error = _winapi.WriteFile(self._live(), view, overlapped=True)
            written = self._complete(overlapped, error)
            if written <= 0:
                raise BrokenPipeError(errno.EPIPE, "the pipe took no bytes")
            view = view[written:]

    def shutdown(self, how: int) -> None:
        """Nothing to do: a pipe has no half-close, and a message ends at its newline."""

    def close(self) -> None:
        """Close this end; bytes written before stay readable at the other end."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            _winapi.CloseHandle(handle)

    def _live(self) -> int:
        if self._handle is None:
            raise OSError(errno.EBADF, "the pipe is closed")
        return self._handle

    def _complete(self, overlapped: _winapi.Overlapped, error: int) -> int:
        """Wait for an overlapped read or write until the timeout; the bytes it moved."""
        if error == _winapi.ERROR_IO_PENDING:
            waited = _winapi.WaitForSingleObject(overlapped.event, _millis(self._timeout))
            if waited == _winapi.WAIT_TIMEOUT:
                overlapped.cancel()  # then wait below until the cancel has landed
        moved, error = overlapped.GetOverlappedResult(True)  # other errors raise OSError
        if error == _winapi.ERROR_OPERATION_ABORTED:
            raise TimeoutError("the other end of the pipe did not keep up in time")
        return moved


def _millis(timeout: float | None) -> int:
    return _winapi.INFINITE if timeout is None else max(0, int(timeout * 1000))


def connect(name: str, timeout: float) -> PipeChannel:
    """The client's end of a new connection to the pipe `name`, its timeout `timeout`.

    FileNotFoundError when no such pipe exists (no daemon), PermissionError when its DACL keeps
    this user out or another user owns it, TimeoutError when every instance stays busy.
    """
    deadline = time.monotonic() + timeout
    flags = _winapi.FILE_FLAG_OVERLAPPED | _SECURITY_IDENTIFICATION
    while True:
        try:
            handle = _winapi.CreateFile(
                name, _GENERIC_READ_WRITE, 0, _winapi.NULL, _OPEN_EXISTING, flags, _winapi.NULL
            )
            break
        except OSError as exc:
            if exc.winerror != _ERROR_PIPE_BUSY:
                raise
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"every instance of {name} stayed busy")
        with contextlib.suppress(OSError):  # timed out, or the pipe is gone: CreateFile says
            _winapi.WaitNamedPipe(name, max(1, min(int(left * 1000), 1000)))
    channel = PipeChannel(handle)
    channel.settimeout(timeout)
    try:
        owner = win32.owner_sid(handle)
        if owner != win32.user_sid():
            raise PermissionError(errno.EACCES, f"the pipe belongs to {owner}, not to us", name)
    except BaseException:
        channel.close()
        raise
    return channel


class PipeListener:
    """The daemon's side: one instance of the pipe waits for a client at a time; `accept`
    hands a connected one over and has already put a fresh instance in its place, so that a
    client never finds the name missing while the daemon runs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._security = win32.SecurityAttributes(win32.only_user_sddl(win32.user_sid()))
        self._waiting: int | None = None
        self._wake: int | None = None
        try:
            self._wake = win32.create_event()
            self._waiting = self._instance(first=True)
        except BaseException:
            self.close()
            raise

    def accept(self) -> PipeChannel | None:
        """The next client's connection; None when `wake()` was called, or when a client left
        before it was served."""
        if self._waiting is None:
            self._waiting = self._instance()
        handle = self._waiting
        try:
            overlapped = _winapi.ConnectNamedPipe(handle, overlapped=True)
        except OSError:  # ERROR_NO_DATA: a client came and went before we looked
            self._discard()
            return None
        assert self._wake is not None
        signalled = _winapi.WaitForMultipleObjects([overlapped.event, self._wake], False)
        if signalled != _winapi.WAIT_OBJECT_0:
            overlapped.cancel()
        try:
            _, error = overlapped.GetOverlappedResult(True)
        except OSError:  # the client has gone already
            self._discard()
            return None
        if error != 0:  # cancelled: woken
            return None
        self._waiting = None
        with contextlib.suppress(OSError):  # out of resources: the next accept tries again
            self._waiting = self._instance()
        return PipeChannel(handle)

    def allowed(self, conn: PipeChannel) -> bool:
        """Every client that could open the pipe may talk: its DACL admits this user only."""
        return True

    def wake(self) -> None:
        """Make a blocked (or the next) `accept` return None; any thread may call it."""
        if self._wake is not None:
            win32.set_event(self._wake)

    def close(self) -> None:
        """No more instances; connections already handed over stay open until closed."""
        self._discard()
        if self._wake is not None:
            wake, self._wake = self._wake, None
            _winapi.CloseHandle(wake)
        self._security.free()

    def _instance(self, *, first: bool = False) -> int:
        mode = _winapi.PIPE_ACCESS_DUPLEX | _winapi.FILE_FLAG_OVERLAPPED
        mode |= _winapi.FILE_FLAG_FIRST_PIPE_INSTANCE if first else 0
        pipe_mode = _winapi.PIPE_WAIT | _PIPE_REJECT_REMOTE_CLIENTS  # byte type, byte reads
        return _winapi.CreateNamedPipe(
            self.name,
            *(mode, pipe_mode, _winapi.PIPE_UNLIMITED_INSTANCES, _BUFFER, _BUFFER, 0),
            self._security.address,
        )

    def _discard(self) -> None:
        if self._waiting is not None:
            handle, self._waiting = self._waiting, None
            _winapi.CloseHandle(handle)

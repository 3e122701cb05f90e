"""Talking to the running daemon: the wire format and the client side of the socket.

One request per connection: the client sends one JSON object on one `\\n`-terminated UTF-8
line, the daemon answers with one such line and closes. A reply is always a dict; a failure
is `{"error": "...", "hint": "..."}`, with `"exit": 2` when the error is a bad config.

The transport is a Unix socket at the runtime folder's `venvsyncd.sock`; on Windows it is the
named pipe of that path (`pipes.py`), with the same framing and the same errors: a missing
pipe is a daemon that is not running. Callers pass the socket path either way.

Imported by every client command, so only the standard library at module level.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any, TypeAlias

from venvsyncd.errors import ConfigError, DaemonNotRunning, VenvsyncdError

if sys.platform == "win32":
    from venvsyncd.wire.pipes import PipeChannel

    Connection: TypeAlias = PipeChannel  # a named pipe with the socket calls the wire uses
else:
    Connection: TypeAlias = socket.socket

MAX_REQUEST = 1024 * 1024  # bytes in a request line, newline excluded
MAX_REPLY = 64 * 1024 * 1024  # a status with many projects is still far below this
BUSY = "busy"  # the daemon's reply when all its connection slots are taken
START_HINT = "start it with `venvsyncd run` or as a service: `venvsyncd service install`"


class FrameError(ValueError):
    """A line that is not one JSON object within the size limit; str() says what is wrong."""


def encode_frame(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode_frame(line: bytes) -> dict[str, Any]:
    """The JSON object on `line` (its newline already stripped)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError(f"the message is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise FrameError("the message is nested too deeply") from None
    except ValueError as exc:
        raise FrameError(f"the message is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise FrameError(f"the message is a JSON {type(value).__name__}, not an object")
    return value


def read_frame(sock: Connection, limit: int, deadline: float) -> bytes | None:
    """One line from `sock`, newline stripped, by `deadline` (time.monotonic()).

    None when the peer closed without sending anything. At end of stream the bytes so far
    are the line. Raises FrameError when the line exceeds `limit` bytes and TimeoutError
    when the deadline passes first.
    """
    buffer = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        end = chunk.find(b"\n")
        buffer += chunk if end < 0 else chunk[:end]
        if len(buffer) > limit:
            raise FrameError(f"the message is longer than {limit} bytes")
        if end >= 0 or not chunk:
            return bytes(buffer) if buffer or chunk else None


def address(socket_path: Path) -> str:
    """What the daemon of `socket_path` listens on, for messages: the path, or the pipe."""
    if sys.platform == "win32":
        from venvsyncd.wire.pipes import pipe_name

        return pipe_name(socket_path)
    return str(socket_path)


def not_running(socket_path: Path) -> DaemonNotRunning:
    return DaemonNotRunning(
        f"the venvsyncd daemon is not running (no answer on {address(socket_path)})",
        hint=START_HINT,
    )


def connect(socket_path: Path, timeout: float) -> Connection:
    """A connection to the daemon, or DaemonNotRunning when nothing listens on `socket_path`
    (on Windows: on its pipe)."""
    try:
        return _open(socket_path, timeout)
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
        raise not_running(socket_path) from None
    except PermissionError:
        raise VenvsyncdError(
            f"permission denied connecting to {address(socket_path)}",
            hint="the socket belongs to another user; run venvsyncd as its owner",
        ) from None
    except TimeoutError:
        raise
    except OSError as exc:  # a path too long for AF_UNIX, a folder that is not ours, ...
        where = address(socket_path)
        raise VenvsyncdError(f"cannot connect to {where}: {exc.strerror or exc}") from None


if sys.platform == "win32":

    def _open(socket_path: Path, timeout: float) -> Connection:
        from venvsyncd.wire import pipes

        return pipes.connect(pipes.pipe_name(socket_path), timeout)

else:

    def _open(socket_path: Path, timeout: float) -> Connection:
        if not hasattr(socket, "AF_UNIX"):
            raise VenvsyncdError(
                "talking to the daemon needs Unix sockets, which this Python lacks"
            )
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            _connect_when_there_is_room(sock, socket_path, time.monotonic() + timeout)
        except BaseException:
            sock.close()
            raise
        return sock


def _connect_when_there_is_room(sock: socket.socket, path: Path, deadline: float) -> None:
    """connect(); a full listen backlog makes a Unix socket with a timeout fail with EAGAIN
    at once instead of waiting, so try again until `deadline`."""
    while True:
        try:
            sock.connect(str(path))
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError("the daemon's listen backlog stayed full") from None
            time.sleep(0.01)
        else:
            return


def request(socket_path: Path, op: str, timeout: float = 10.0, /, **args: Any) -> dict[str, Any]:
    """Send `{"op": op, **args}` to the daemon and return its reply.

    `timeout` is positional-only, so an op may take a `timeout` argument of its own:
    `request(sock, "wait", 65.0, timeout=60.0)` waits 65 s for a reply to a 60 s wait.
    A daemon too busy to take the request (all its connection slots in use) is asked again
    until `timeout`: it did nothing with it.

    Raises DaemonNotRunning when nothing listens, VenvsyncdError with the daemon's text (and
    hint) for an error reply, and VenvsyncdError when no reply comes within `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    pause = 0.02
    while True:
        try:
            reply = _request_once(socket_path, deadline, {"op": op, **args})
        except TimeoutError:
            raise VenvsyncdError(
                f"the daemon did not answer {op!r} within {timeout:g} s"
                f" (on {address(socket_path)})",
                hint="see the daemon's log; `venvsyncd stop` and start it again if it hangs",
            ) from None
        if reply.get("error") != BUSY or time.monotonic() + pause >= deadline:
            break
        time.sleep(pause)
        pause = min(2 * pause, 0.5)
    if "error" in reply:
        hint = reply.get("hint")
        kind = ConfigError if reply.get("exit") == ConfigError.exit_code else VenvsyncdError
        raise kind(str(reply["error"]), hint=hint if isinstance(hint, str) else None)
    return reply


def _request_once(socket_path: Path, deadline: float, message: dict[str, Any]) -> dict[str, Any]:
    """One connection, one request, its reply (an error reply too); TimeoutError at `deadline`."""
    try:
        with connect(socket_path, max(0.0, deadline - time.monotonic())) as sock:
            _send(sock, encode_frame(message))
            line = read_frame(sock, MAX_REPLY, deadline)
    except (FrameError, ConnectionResetError) as exc:
        raise VenvsyncdError(
            f"bad answer from the daemon on {address(socket_path)}: {exc}"
        ) from None
    if line is None:
        where = address(socket_path)
        raise VenvsyncdError(f"the daemon on {where} closed the connection without answering")
    try:
        return decode_frame(line)
    except FrameError as exc:
        raise VenvsyncdError(
            f"bad answer from the daemon on {address(socket_path)}: {exc}"
        ) from None


def _send(sock: Connection, frame: bytes) -> None:
    """Send `frame`; a daemon that closed early (it refused us) still gets its reply read."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(frame)


def ping(socket_path: Path, timeout: float = 2.0) -> int | None:
    """The pid a daemon on `socket_path` answers `ping` with; None when nothing listens."""
    try:
        reply = request(socket_path, "ping", timeout)
    except DaemonNotRunning:
        return None
    pid = reply.get("pid")
    return pid if isinstance(pid, int) else None


def notify(socket_path: Path, op: str, **args: Any) -> bool:
    """Like `request`, but no daemon is fine: True when a daemon took it, False when none runs."""
    try:
        request(socket_path, op, 10.0, **args)
    except DaemonNotRunning:
        return False
    return True

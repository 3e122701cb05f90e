"""The daemon's side of the control socket: a small, hardened JSON-lines server.

It knows nothing of projects. `IpcServer(path, handlers)` answers each request by looking its
`"op"` up in `handlers`; the wire format lives in `client.py`, the socket's setup in
`endpoint.py` (on Windows a named pipe named after `path`, `pipes.py`). One connection carries
one request and one reply; each connection gets its own short-lived thread, so a handler may
block (a `wait` op) while others are answered. A connection takes one of `max_connections`
slots; once its request names one of `long_ops` (ops that block until something happens),
it moves to one of `max_waiting` slots of their own, so that any number of waiters up to
that never keeps `status` or `stop` out. The server answers `ping` itself with its pid
unless the table says otherwise; `claim_socket` relies on that.

One daemon per user: an exclusive lock on `<runtime dir>/venvsyncd.lock`, held while the
server lives, settles two daemons starting at once; a socket file nobody answers on is stale
and replaced.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from venvsyncd.errors import VenvsyncdError
from venvsyncd.wire import client
from venvsyncd.wire.client import Connection
from venvsyncd.wire.endpoint import LOCK_NAME, acquire_lock, ensure_private_dir, listen

Handler = Callable[[dict[str, Any]], dict[str, Any]]
Reply = dict[str, Any] | None

log = logging.getLogger("venvsyncd.ipc")

MAX_CONNECTIONS = 64
MAX_WAITING = 512  # connections blocked in a long op (`wait`), besides MAX_CONNECTIONS
REQUEST_TIMEOUT = 5.0  # seconds to read the whole request
REPLY_TIMEOUT = 5.0  # seconds to write the reply


class IpcServer:
    """A Unix socket server bound at `path` (mode 0600, in a 0700 folder) until `close()`;
    on Windows the named pipe of `path`, open to this user only."""

    def __init__(
        self,
        path: Path,
        handlers: Mapping[str, Handler],
        *,
        max_connections: int = MAX_CONNECTIONS,
        request_timeout: float = REQUEST_TIMEOUT,
        long_ops: Collection[str] = (),
    ) -> None:
        self.path = path
        self.handlers: dict[str, Handler] = {"ping": _ping, **handlers}
        self.request_timeout = request_timeout
        self.long_ops = frozenset(long_ops)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._max_connections = max_connections
        self._waiting = threading.BoundedSemaphore(MAX_WAITING)
        self._stop = threading.Event()
        self._serving = threading.Lock()  # held by the accept loop while it runs
        self._closing = threading.Lock()
        ensure_private_dir(path.parent)
        self._lock_fd = acquire_lock(path.parent / LOCK_NAME, path)
        try:
            self._listener = listen(path)
        except BaseException:
            os.close(self._lock_fd)
            raise

    def __enter__(self) -> IpcServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> threading.Thread:
        """Run `serve_forever` on a daemon thread; returns that thread."""
        thread = threading.Thread(target=self.serve_forever, name="venvsyncd-ipc", daemon=True)
        thread.start()
        return thread

    def serve_forever(self) -> None:
        """Accept connections until `close()`; each one is handled on its own thread."""
        with self._serving:
            while not self._stop.is_set():
                self._accept_one()

    def drain(self, timeout: float) -> bool:
        """Wait until the connections in flight have sent their replies (e.g. to `stop`)."""
        deadline = time.monotonic() + timeout
        return all(
            _take_all(slots, count, deadline)
            for slots, count in ((self._slots, self._max_connections), (self._waiting, MAX_WAITING))
        )

    def close(self) -> None:
        """Stop accepting, wait for the accept loop, unlink the socket if it is still ours.

        Safe to call from a handler (a `stop` op): requests in flight finish on their threads.
        """
        with self._closing:
            if self._stop.is_set():
                return
            self._stop.set()
            self._listener.wake()
            with self._serving:  # the accept loop has returned (or never ran)
                self._listener.close()
            os.close(self._lock_fd)  # releases the lock

    def _accept_one(self) -> None:
        try:
            conn = self._listener.accept()
        except OSError as exc:  # the peer gave up already, or out of file descriptors
            log.warning("accept on %s failed: %s", self.path, exc)
            self._stop.wait(0.1)  # do not spin while the listener stays readable
            return
        if conn is None:  # woken by close(), or a client that left before it was served
            return
        if not self._slots.acquire(blocking=False):
            busy = {"error": client.BUSY, "hint": "too many connections; try again"}
            _reply_and_close(conn, busy)
            return
        try:
            threading.Thread(target=self._serve_connection, args=(conn,), daemon=True).start()
        except RuntimeError:  # cannot start a thread
            self._slots.release()
            _reply_and_close(conn, {"error": client.BUSY, "hint": "try again"})

    def _serve_connection(self, conn: Connection) -> None:
        held = [self._slots]  # the slot this connection holds (it may move to `_waiting`)
        try:
            _reply_and_close(conn, self._answer(conn, held))
        except Exception:  # never let a connection take the server down
            log.exception("connection on %s failed", self.path)
            conn.close()
        finally:
            held[0].release()

    def _answer(self, conn: Connection, held: list[threading.BoundedSemaphore]) -> Reply:
        if not self._listener.allowed(conn):
            return {"error": "permission denied"}
        deadline = time.monotonic() + self.request_timeout
        try:
            line = client.read_frame(conn, client.MAX_REQUEST, deadline)
        except TimeoutError:
            return {"error": f"no complete request within {self.request_timeout:g} s"}
        except client.FrameError as exc:
            return {"error": str(exc)}
        if line is None:
            return None  # the peer closed without asking anything
        try:
            message = client.decode_frame(line)
        except client.FrameError as exc:
            return {"error": str(exc)}
        if message.get("op") in self.long_ops:
            if not self._waiting.acquire(blocking=False):
                return {"error": client.BUSY, "hint": "too many waiting requests; try again"}
            held[0].release()
            held[0] = self._waiting
        return self.dispatch(message)

    def dispatch(self, message: dict[str, Any]) -> dict[str, Any]:
        """The reply to one decoded request; never raises."""
        op = message.get("op")
        handler = self.handlers.get(op) if isinstance(op, str) else None
        if handler is None:
            what = f"unknown op {op!r}" if isinstance(op, str) else 'the request has no "op"'
            return {"error": what, "ops": sorted(self.handlers)}
        try:
            reply = handler(message)
        except VenvsyncdError as exc:
            return {"error": exc.message, "hint": exc.hint} if exc.hint else {"error": exc.message}
        except Exception as exc:
            log.exception("the %r handler failed", op)
            return {"error": f"internal error: {type(exc).__name__}: {exc}"}
        if not isinstance(reply, dict):
            log.error("the %r handler returned %r, not a dict", op, reply)
            return {"error": f"internal error: the {op!r} handler returned no dict"}
        return reply


def _take_all(slots: threading.BoundedSemaphore, count: int, deadline: float) -> bool:
    """Can all `count` of `slots` be had before `deadline` (they are given back at once)?"""
    taken = 0
    try:
        while taken < count:
            if not slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                return False
            taken += 1
        return True
    finally:
        for _ in range(taken):
            slots.release()


def _ping(message: dict[str, Any]) -> dict[str, Any]:
    return {"pid": os.getpid()}


def _reply_and_close(conn: Connection, reply: dict[str, Any] | None) -> None:
    with conn:
        if reply is None:
            return
        try:
            frame = client.encode_frame(reply)
        except (TypeError, ValueError) as exc:
            log.error("cannot encode reply %r: %s", reply, exc)
            frame = client.encode_frame({"error": f"internal error: unencodable reply: {exc}"})
        try:
            conn.settimeout(REPLY_TIMEOUT)
            conn.sendall(frame)
            conn.shutdown(socket.SHUT_WR)
        except OSError as exc:  # the client went away or reads nothing
            log.debug("reply on %s not delivered: %s", conn, exc)

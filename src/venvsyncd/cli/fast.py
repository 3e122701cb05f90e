"""Fast paths of the commands scripts and prompts run most: `status [--json] [PATH]` and
`freeze [PATH]`, in those plain forms.

A whole `python -m venvsyncd status` is Python's start-up plus what it imports, and argparse,
enum, pathlib, typing, platformdirs, `socket`'s enums and `json`'s regular expressions
cost more than the start-up itself. A plain `status` is answered here with the C modules
below them (`_socket`, `_json`) and the state names; a plain `freeze` imports the freeze
modules and no argparse, platformdirs or config parser: the config is read only when it may
name a project's venv (the only thing `freeze` takes from it). Any other command line, and
anything unusual on the way (no daemon, an error reply, a runtime folder that is not plainly
ours, no venv), returns None and takes the full path, which says what went wrong.
"""

# str paths and os calls on purpose: importing pathlib would cost this path a third of its time.
# ruff: noqa: PTH109, PTH111, PTH116, PTH117, PTH118, PTH120

from __future__ import annotations

import os
import sys

from venvsyncd.cli.fast_records import APP_NAME, fast_check, fast_freeze

TYPE_CHECKING = False  # not typing's: importing typing costs this path a third of its time
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

REPLY_LIMIT = 64 * 1024 * 1024  # client.MAX_REPLY
TIMEOUT = 10.0  # control.STATUS_TIMEOUT


def fast_main(words: Sequence[str]) -> int | None:
    """The exit code of a plain command line it answered, else None."""
    if words and words[0] == "status":
        return _status(words[1:])
    if words and words[0] == "freeze" and sys.platform == "linux":
        paths = list(words[1:])
        if len(paths) <= 1 and not any(w.startswith("-") or not w for w in paths):
            return fast_freeze(paths[0] if paths else ".")
    if words and words[0] == "sync" and "--check" in words and sys.platform == "linux":
        paths = [w for w in words[1:] if w != "--check"]
        if len(words) <= 3 and not any(w.startswith("-") or not w for w in paths):
            return fast_check(paths[0] if paths else ".")
    return None


def _status(rest: Sequence[str]) -> int | None:
    rest = list(rest)
    as_json = "--json" in rest
    paths = [w for w in rest if w != "--json"]
    if len(paths) > 1 or any(w.startswith("-") or not w for w in paths):
        return None
    socket_path = known_socket()
    if socket_path is None:
        return None
    reply = ask(socket_path, _status_request(paths[0] if paths else None))
    if reply is None or "error" in reply:
        return None
    return _show(reply, as_json)


def _status_request(path: str | None) -> bytes:
    """The frame `client.request(sock, "status", path=..., default=...)` sends."""
    from _json import encode_basestring_ascii as quoted

    if path is None:
        text = '{"op":"status","path":' + quoted(os.getcwd()) + ',"default":true}'
    else:
        text = '{"op":"status","path":' + quoted(os.path.abspath(os.path.expanduser(path))) + "}"
    return text.encode() + b"\n"


def _show(reply: dict[str, Any], as_json: bool) -> int:
    from venvsyncd.cli.status_view import render_status, status_exit_code

    if as_json:
        import json

        print(json.dumps(reply, indent=2))
    else:
        for line in render_status(reply):
            print(line)
    return status_exit_code(reply)


def known_socket() -> str | None:
    """The daemon's socket, where platformdirs' answer is plain: Linux, with an
    `$XDG_RUNTIME_DIR` that is a folder of ours, mode 0700, below folders that no other
    user can replace (platformdirs' own conditions for using it), else None."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if sys.platform != "linux" or not os.path.isabs(runtime):
        return None
    runtime = os.path.normpath(runtime)
    if not _private(runtime) or not _safe_parents(runtime):
        return None
    return os.path.join(runtime, APP_NAME, APP_NAME + ".sock")


def _private(folder: str) -> bool:
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    is_dir = (info.st_mode & 0o170000) == 0o040000  # stat.S_ISDIR, without importing stat
    return is_dir and info.st_uid == os.geteuid() and info.st_mode & 0o777 == 0o700


def _safe_parents(folder: str) -> bool:
    """Every folder above `folder` is root's or ours, and writable by no one else unless
    sticky."""
    me = os.geteuid()
    parent = os.path.dirname(folder)
    while True:
        try:
            info = os.stat(parent)
        except OSError:
            return False
        sticky = info.st_mode & 0o1000
        if info.st_uid not in (0, me) or (info.st_mode & 0o022 and not sticky):
            return False
        if parent == os.path.dirname(parent):
            return True
        parent = os.path.dirname(parent)


def ask(socket_path: str, frame: bytes) -> dict[str, Any] | None:
    """The daemon's reply to one request frame, decoded; None when it could not be had."""
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(TIMEOUT)
        sock.connect(socket_path)
        sock.sendall(frame)
        data = _read_line(sock)
    except OSError:  # nothing listens, a full backlog, a timeout: the full path says which
        return None
    finally:
        sock.close()
    return None if data is None else decode(data)


def _read_line(sock: Any) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        end = chunk.find(b"\n")
        chunks.append(chunk if end < 0 else chunk[:end])
        size += len(chunks[-1])
        if size > REPLY_LIMIT:
            return None
        if end >= 0 or not chunk:
            return b"".join(chunks) or None


class _Context:
    """What `_json.make_scanner` reads from `json.JSONDecoder` (strict, no hooks)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str]

    def __init__(self) -> None:
        self.memo = {}

    @staticmethod
    def parse_constant(name: str) -> None:
        raise ValueError(name)  # NaN or Infinity: no reply of the daemon's holds one


def decode(data: bytes) -> dict[str, Any] | None:
    """`json.loads` of one reply line, by the C scanner under it; None unless a JSON object."""
    from _json import make_scanner

    try:
        text = data.decode("utf-8")
        # typeshed types the context as a scanner; the C scanner reads JSONDecoder's fields
        value, end = make_scanner(_Context())(text, 0)  # type: ignore[arg-type]
    except (UnicodeDecodeError, ValueError, StopIteration, RecursionError):
        return None
    if text[end:].strip(" \t\r\n") or not isinstance(value, dict):
        return None
    return value

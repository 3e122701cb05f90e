"""Commands that talk to the running daemon: `status`, `stop`, `reload`, `pause`, `resume`.

The operations they send, and their replies, are listed in `venvsyncd/daemon/ops.py`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from venvsyncd.cli.parser import Context
from venvsyncd.cli.status_view import render_status, status_exit_code
from venvsyncd.errors import Exit

__all__ = ["pause_resume_line", "register", "render_status", "status_exit_code"]

DEFAULT_WAIT = 60.0
STOP_WAIT = 10.0
STATUS_TIMEOUT = 10.0


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    status = commands.add_parser(
        "status",
        parents=[common],
        help="ask the running daemon how its projects are",
        description="Show each project the daemon watches. Exit 0 when all are in sync or "
        "paused, 1 when any is pending, syncing, drifting, in conflict or in error, 3 when "
        "no daemon runs, 4 when --wait timed out.",
    )
    _add_optional_path(
        status, "only this project (default: the current folder's project, else all)"
    )
    status.add_argument("--json", action="store_true", help="print the daemon's reply as JSON")
    status.add_argument(
        "--wait", action="store_true", help="first wait until no project is pending or syncing"
    )
    status.add_argument(
        "--timeout",
        metavar="S",
        type=_seconds,
        help=f"give up waiting after S seconds, exit 4 (default: {DEFAULT_WAIT:g})",
    )
    status.set_defaults(handler=cmd_status)

    for name, help_text, handler in (
        ("stop", "stop the running daemon (returns once it has exited)", cmd_stop),
        ("reload", "make the running daemon read its config again", cmd_reload),
    ):
        commands.add_parser(name, parents=[common], help=help_text).set_defaults(handler=handler)

    for name, verb in (("pause", "stop syncing"), ("resume", "start syncing again")):
        parser = commands.add_parser(
            name, parents=[common], help=f"make the running daemon {verb} a project, or all"
        )
        _add_optional_path(parser, "the project (default: the current folder's project, else all)")
        parser.set_defaults(handler=cmd_pause_resume, op=name)


def _add_optional_path(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("path", metavar="PATH", nargs="?", default=None, help=help_text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _socket(ctx: Context) -> Path:
    from venvsyncd.paths import locations

    return locations(ctx.config_file).socket


def _target(path: str | None) -> dict[str, Any]:
    """PATH, or the current folder; without PATH, a folder that is no project means all."""
    if path is None:
        return {"path": str(Path.cwd()), "default": True}
    return {"path": os.path.abspath(Path(path).expanduser())}


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    import json

    from venvsyncd.errors import UsageError
    from venvsyncd.wire import client

    if args.timeout is not None and not args.wait:
        raise UsageError("--timeout goes with --wait", hint="venvsyncd status --wait --timeout S")
    socket_path, target = _socket(ctx), _target(args.path)
    wait_s = args.timeout if args.timeout is not None else DEFAULT_WAIT
    idle = True
    if args.wait:
        waited = client.request(socket_path, "wait", wait_s + 5, timeout=wait_s, **target)
        if waited.get("stopping") is True:
            from venvsyncd.errors import DaemonNotRunning

            raise DaemonNotRunning(
                "the daemon stopped while `status --wait` waited",
                hint="start it again: venvsyncd start",
            )
        idle = waited.get("idle") is True
    reply = client.request(socket_path, "status", STATUS_TIMEOUT, **target)
    if args.json:
        print(json.dumps(reply, indent=2))
    elif ctx.verbosity >= 0:
        for line in render_status(reply, verbose=ctx.verbosity > 0):
            print(line)
    if not idle:
        print(f"venvsyncd: still syncing after {wait_s:g} s (--timeout)", file=sys.stderr)
        return Exit.TIMEOUT
    return status_exit_code(reply)


def cmd_stop(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.errors import VenvsyncdError
    from venvsyncd.wire import client

    socket_path = _socket(ctx)
    reply = client.request(socket_path, "stop")
    who = f" (pid {reply['pid']})" if isinstance(reply.get("pid"), int) else ""
    if not wait_until_gone(socket_path, STOP_WAIT):
        raise VenvsyncdError(
            f"the daemon{who} was told to stop but still answers after {STOP_WAIT:g} s",
            hint="see its log; kill it if it hangs",
        )
    if ctx.verbosity >= 0:
        print(f"stopped the venvsyncd daemon{who}")
    return Exit.OK


def wait_until_gone(socket_path: Path, timeout: float) -> bool:
    """True once nothing listens on `socket_path` (file gone or refused), False on timeout."""
    from venvsyncd.errors import DaemonNotRunning
    from venvsyncd.wire import client

    deadline = time.monotonic() + timeout
    while True:
        try:
            client.connect(socket_path, 1.0).close()
        except DaemonNotRunning:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def cmd_reload(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.wire import client

    reply = client.request(_socket(ctx), "reload")
    count = reply.get("projects")
    if ctx.verbosity >= 0:
        watching = f"; {_count(count)} watched" if isinstance(count, int) else ""
        print(f"the daemon reloaded {ctx.config_file}{watching}")
    return Exit.OK


def cmd_pause_resume(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.wire import client

    op: str = args.op
    reply = client.request(_socket(ctx), op, **_target(args.path))
    if ctx.verbosity >= 0:
        print(pause_resume_line(op, reply))
    return Exit.OK


def pause_resume_line(op: str, reply: dict[str, Any]) -> str:
    """`paused /x`, `resumed 3 projects`, or just `paused` when the reply names none."""
    done = "paused" if op == "pause" else "resumed"
    projects = reply.get("projects")
    if not isinstance(projects, list):
        return done
    if len(projects) == 1:
        return f"{done} {projects[0]}"
    return f"{done} {_count(len(projects))}"


def _count(n: int) -> str:
    return f"{n} project{'' if n == 1 else 's'}"

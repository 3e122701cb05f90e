"""`venvsyncd start`: the daemon in the background, back once it answers.

When venvsyncd's user service is installed, its manager starts it (so there is one daemon,
the service's); else `python -m venvsyncd run` is started detached, its first output kept
in the log folder (`start.log`) to say why when it stops at once.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from venvsyncd.cli.parser import Context
from venvsyncd.errors import Exit, VenvsyncdError

START_TIMEOUT = 30.0


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    start = commands.add_parser(
        "start",
        parents=[common],
        help="start the daemon in the background, return once it answers",
        description="Start the daemon (the user service when it is installed) and wait until "
        "it answers. Exit 0 once it runs (or already ran), 1 when it could not start.",
    )
    start.set_defaults(handler=cmd_start)


def cmd_start(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.paths import locations
    from venvsyncd.wire import client

    locs = locations(ctx.config_file)
    running = client.ping(locs.socket)
    if running is not None:
        _say(ctx, f"the venvsyncd daemon already runs (pid {running})")
        return Exit.OK
    how = _start_service(ctx) or _start_detached(ctx, locs.log_dir)
    pid = _wait_for_answer(locs.socket, how)
    _say(ctx, f"the venvsyncd daemon runs (pid {pid}, {how.describe})")
    return Exit.OK


class _Started:
    """How the daemon was started, and how to tell that it stopped before answering."""

    def __init__(self, describe: str, process: Any = None, output: Any = None) -> None:
        self.describe = describe
        self.process = process  # subprocess.Popen when started here
        self.output = output  # its output file

    def failed(self) -> str | None:
        if self.process is None or self.process.poll() is None:
            return None
        text = self.output.read_text(errors="replace").strip() if self.output else ""
        lines = [line for line in text.splitlines() if line.strip()]
        return f"it exited {self.process.returncode}" + (f": {lines[-1]}" if lines else "")


def _start_service(ctx: Context) -> _Started | None:
    """Start venvsyncd's installed user service; None when none is installed (or its manager
    cannot be reached: then the daemon is started directly)."""
    from venvsyncd.cli.service import user_places
    from venvsyncd.service.managers import OURS, file_state, run_steps, service_file
    from venvsyncd.service.units import manager_for

    try:
        manager = manager_for(sys.platform)
    except VenvsyncdError:
        return None
    places = user_places()
    if file_state(service_file(manager, places)) != OURS:
        return None
    ran = run_steps((_start_step(manager, places.uid),))
    if ran.failed is not None:
        _say(ctx, f"venvsyncd: the service did not start ({ran.why}); starting the daemon here")
        return None
    return _Started(f"as the {manager} service")


def _start_step(manager: str, uid: int) -> Any:
    from venvsyncd.service.managers import Step
    from venvsyncd.service.units import LAUNCHD, LAUNCHD_LABEL, SYSTEMD, TASK_NAME, UNIT_NAME

    if manager == SYSTEMD:
        return Step(("systemctl", "--user", "start", UNIT_NAME))
    if manager == LAUNCHD:
        return Step(("launchctl", "kickstart", f"gui/{uid}/{LAUNCHD_LABEL}"))
    return Step(("schtasks", "/Run", "/TN", TASK_NAME))


def _start_detached(ctx: Context, log_dir: Any) -> _Started:
    from venvsyncd.system.private import private_dir
    from venvsyncd.system.spawn import spawn_detached

    private_dir(log_dir)
    output = log_dir / "start.log"
    output.write_bytes(b"")
    argv = [sys.executable, "-m", "venvsyncd", "--config", str(ctx.config_file), "run"]
    return _Started("in the background", spawn_detached(argv, output), output)


def _wait_for_answer(socket: Any, how: _Started) -> int:
    from venvsyncd.wire import client

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        pid = client.ping(socket, 1.0)
        if pid is not None:
            return pid
        why = how.failed()
        if why is not None or time.monotonic() >= deadline:
            why = why or f"no answer in {START_TIMEOUT:g} s"
            raise VenvsyncdError(
                f"the venvsyncd daemon did not start: {why}",
                hint="run `venvsyncd run` in a terminal to see why, or `venvsyncd doctor`",
            )
        time.sleep(0.05)


def _say(ctx: Context, text: str) -> None:
    if ctx.verbosity >= 0:
        print(text)

"""`venvsyncd run`: the daemon in the foreground (what the user service runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from venvsyncd.cli.parser import Context


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    run = commands.add_parser(
        "run",
        parents=[common],
        help="the daemon, in the foreground (what the user service runs)",
        description="Watch the config's projects (and any PATH given) and keep them in sync "
        "until stopped (SIGTERM, SIGINT, `venvsyncd stop`). SIGHUP reloads the config.",
    )
    run.add_argument("paths", metavar="PATH", nargs="*", help="extra project folders to watch")
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.daemon.serve import run_daemon
    from venvsyncd.paths import locations

    extra = [Path(p).expanduser().absolute() for p in args.paths]
    return run_daemon(locations(ctx.config_file), extra, ctx.verbosity)

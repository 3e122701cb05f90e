"""`venvsyncd doctor`: check config, venvs, inotify limits, the service and the daemon."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from venvsyncd.cli.parser import Context


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    doctor = commands.add_parser(
        "doctor",
        parents=[common],
        help="check config, venvs, inotify limits and the service; say how to fix what is wrong",
        description="Check the config, each project's venv and requirements file, the inotify "
        "limits, the per-user service and the daemon. One line per check; a problem comes "
        "with its fix. Exit 0 when all is well, else 1.",
    )
    doctor.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.cli.service import user_places
    from venvsyncd.doctor import problems, run_checks
    from venvsyncd.errors import Exit, VenvsyncdError
    from venvsyncd.service.units import manager_for

    try:
        manager: str | None = manager_for(sys.platform)
    except VenvsyncdError:
        manager = None
    findings = run_checks(ctx.config_file, manager, user_places())
    for finding in findings:
        if not finding.ok:
            fix = f"; fix: {finding.fix}" if finding.fix else ""
            print(f"FAIL  {finding.what}{fix}")
        elif ctx.verbosity >= 0:
            print(f"ok    {finding.what}")
    found = len(problems(findings))
    if ctx.verbosity >= 0:
        print("all is well" if not found else f"{found} problem{'' if found == 1 else 's'}")
    return Exit.OK if not found else Exit.FAILED

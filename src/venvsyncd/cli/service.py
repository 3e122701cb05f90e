"""`venvsyncd service install|uninstall|status`: the per-user service.

A systemd user unit on Linux, a launchd agent on macOS, a Task Scheduler task on Windows.
When the service manager cannot be reached (no user systemd session, as in containers and
CI), the file is still written or removed, and the commands left to run are printed: exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from venvsyncd.cli.parser import Context
from venvsyncd.errors import Exit

if TYPE_CHECKING:
    from venvsyncd.service.managers import ServiceState, Step, StepsRun, UserPlaces
    from venvsyncd.service.units import ServiceSpec

PLATFORMS = ("linux", "darwin", "win32")
_WHERE_TO_FINISH = {
    "systemd": "where `systemctl --user` works (a login session, or any shell once "
    "`loginctl enable-linger $USER` keeps your user manager running)",
    "launchd": "in your macOS login session",
    "schtasks": "as this Windows user",
}
_WHAT = {
    "systemd": "systemd user unit",
    "launchd": "launchd agent",
    "schtasks": "Task Scheduler task",
}


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    service = commands.add_parser(
        "service",
        parents=[common],
        help="install, remove or check the per-user service that runs the daemon",
        description="The per-user service that runs `venvsyncd run` at login and restarts it "
        "on failure: a systemd user unit (Linux), a launchd agent (macOS) or a Task "
        "Scheduler task (Windows).",
    )
    service.set_defaults(handler=lambda args, ctx: _usage(service))
    actions = service.add_subparsers(title="actions", metavar="ACTION")
    install = actions.add_parser(
        "install",
        parents=[common],
        help="write the service's file, then enable and start it",
        description="Write the service's file for this user, then enable and start it. "
        "Exit 1 when the service manager cannot be reached: the file is written and the "
        "commands left to run are printed.",
    )
    install.add_argument(
        "--force", action="store_true", help="replace a file venvsyncd did not write"
    )
    install.set_defaults(handler=cmd_install)
    uninstall = actions.add_parser(
        "uninstall", parents=[common], help="stop and disable the service, remove its file"
    )
    uninstall.set_defaults(handler=cmd_uninstall)
    status = actions.add_parser(
        "status",
        parents=[common],
        help="is the service installed, enabled and active? (exit 0 when installed and active)",
    )
    status.set_defaults(handler=cmd_status)
    for action in (install, uninstall, status):
        _add_common_options(action)


def _add_common_options(action: argparse.ArgumentParser) -> None:
    action.add_argument(
        "--dry-run", action="store_true", help="print what would be written and run"
    )
    action.add_argument(
        "--platform",
        choices=PLATFORMS,
        default=sys.platform,
        help="the platform to act for (default: this one); mostly with --dry-run",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return Exit.USAGE


def _manager(args: argparse.Namespace) -> str:
    from venvsyncd.service.units import manager_for

    return manager_for(args.platform)


def user_places() -> UserPlaces:
    """This user's folders, from the environment (`$XDG_CONFIG_HOME`, else `~/.config`)."""
    from venvsyncd.paths import locations
    from venvsyncd.service.managers import UserPlaces

    home = Path.home()
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    config_home = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return UserPlaces(home, config_home, locations().state_dir, uid)


def service_spec(ctx: Context) -> ServiceSpec:
    """This interpreter, running this config (named only when it is not the default one)."""
    import platformdirs

    from venvsyncd.errors import VenvsyncdError
    from venvsyncd.paths import APP_NAME, locations
    from venvsyncd.service.units import ServiceSpec

    if not sys.executable or not Path(sys.executable).is_absolute():
        raise VenvsyncdError("cannot tell which Python runs venvsyncd (sys.executable is unset)")
    config = Path(os.path.abspath(ctx.config_file))
    default = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"
    named = None if config == default else str(config)
    log_dir = str(locations(ctx.config_file).log_dir)
    return ServiceSpec(os.path.abspath(sys.executable), named, log_dir, _windows_user())


def _windows_user() -> str:
    import getpass

    domain = os.environ.get("USERDOMAIN", "")
    name = getpass.getuser()
    return f"{domain}\\{name}" if domain else name


def _say(ctx: Context, *lines: str) -> None:
    if ctx.verbosity >= 0:
        for line in lines:
            print(line)


def _commands(steps: tuple[Step, ...]) -> list[str]:
    from venvsyncd.service.managers import command_line

    return [f"  {command_line(step)}" for step in steps]


def cmd_install(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.service.managers import (
        ABSENT,
        FOREIGN,
        file_state,
        foreign_file,
        install,
        install_plan,
        service_file,
    )
    from venvsyncd.service.units import file_text

    manager, places = _manager(args), user_places()
    existing = file_state(service_file(manager, places))
    if existing == FOREIGN and not args.force:
        raise foreign_file(service_file(manager, places))
    plan = install_plan(manager, service_spec(ctx), places, replacing=existing != ABSENT)
    if args.dry_run:
        print(f"would write {plan.file}:")
        print(file_text(plan.content), end="")
        print("would run:", *_commands(plan.steps), sep="\n")
        return Exit.OK
    outcome = install(plan, args.force)
    _say(ctx, f"wrote {plan.file}", *(f"ran: {line.strip()}" for line in _commands(outcome.done)))
    if outcome.failed is not None:
        return _unfinished(manager, outcome)
    _say(ctx, f"venvsyncd runs as a {_WHAT[manager]} now; `venvsyncd service status` checks it")
    return Exit.OK


def cmd_uninstall(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.service.managers import service_file, uninstall

    manager, places = _manager(args), user_places()
    file = service_file(manager, places)
    if args.dry_run:
        return _uninstall_dry_run(manager, places, file)
    outcome = uninstall(manager, places)
    if outcome is None:
        _say(ctx, f"venvsyncd's {_WHAT[manager]} is not installed (no {file})")
        return Exit.OK
    _say(ctx, *(f"ran: {line.strip()}" for line in _commands(outcome.done)), f"removed {file}")
    return Exit.OK if outcome.failed is None else _unfinished(manager, outcome)


def _uninstall_dry_run(manager: str, places: UserPlaces, file: Path) -> int:
    from venvsyncd.service.managers import ABSENT, file_state, uninstall_steps

    if file_state(file) == ABSENT:
        print(f"venvsyncd's {_WHAT[manager]} is not installed (no {file}): nothing to do")
        return Exit.OK
    before, after = uninstall_steps(manager, places.uid)
    print("would run:", *_commands(before), sep="\n")
    print(f"would remove {file}")
    if after:
        print("then run:", *_commands(after), sep="\n")
    return Exit.OK


def _unfinished(manager: str, outcome: StepsRun) -> int:
    from venvsyncd.service.managers import command_line

    assert outcome.failed is not None
    print(
        f"venvsyncd: could not run `{command_line(outcome.failed)}`: {outcome.why}",
        f"to finish, run these {_WHERE_TO_FINISH[manager]}:",
        *_commands(outcome.todo),
        sep="\n",
        file=sys.stderr,
    )
    return Exit.FAILED


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.service.managers import query, status_steps

    manager, places = _manager(args), user_places()
    if args.dry_run:
        print("would run:", *_commands(status_steps(manager, places.uid)), sep="\n")
        return Exit.OK
    state = query(manager, places)
    _say(ctx, *render_state(state))
    return Exit.OK if state.installed and state.active else Exit.FAILED


def render_state(state: ServiceState) -> list[str]:
    """`installed: yes` / `enabled: ...` / `active: ...` lines, with why when unknown."""
    from venvsyncd.service.managers import FOREIGN

    installed = "yes" if state.installed else "no"
    if state.file_state == FOREIGN:
        installed = f"no ({state.file} was not written by venvsyncd)"
    elif not state.installed:
        installed = "no (install it with: venvsyncd service install)"

    def answer(value: bool | None) -> str:
        return f"unknown ({state.why})" if value is None else "yes" if value else "no"

    return [
        f"{_WHAT[state.manager]} {state.file}",
        f"installed: {installed}",
        f"enabled:   {answer(state.enabled)}",
        f"active:    {answer(state.active)}",
    ]

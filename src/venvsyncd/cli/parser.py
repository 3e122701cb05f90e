"""The argparse tree: one sub-parser per command, each bound to its handler."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from venvsyncd import __version__


@dataclass(frozen=True)
class Context:
    """What every command gets besides its own arguments."""

    config_file: Path
    verbosity: int  # -1 quiet, 0 normal, 1+ verbose


def context_from(args: argparse.Namespace) -> Context:
    from venvsyncd.paths import default_config_file

    given = getattr(args, "config", None)
    config = Path(given) if given is not None else default_config_file()
    verbosity = -1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0)
    return Context(config_file=config.expanduser(), verbosity=verbosity)


def _common() -> argparse.ArgumentParser:
    """Global options, accepted before or after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="config file (default: $VENVSYNCD_CONFIG, else the user config dir's "
        "venvsyncd/config.toml)",
    )
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="say more"
    )
    common.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="say less"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    from venvsyncd.cli import control, daemonrun, doctor, projects, service, syncing

    common = _common()  # for the commands; the top level gets its own copy of the actions
    parser = argparse.ArgumentParser(
        prog="venvsyncd",
        parents=[_common()],
        description="Keep each project's virtual environment and requirements file in step.",
        epilog="Exit codes: 0 ok/in sync, 1 out of sync/conflict/error, 2 bad usage or "
        "config, 3 daemon not running, 4 --wait timed out, 130 interrupted.",
    )
    parser.set_defaults(handler=None)
    parser.add_argument("--version", action="version", version=f"venvsyncd {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    projects.register(commands, common)
    syncing.register(commands, common)
    control.register(commands, common)
    daemonrun.register(commands, common)
    service.register(commands, common)
    doctor.register(commands, common)
    return parser


def add_path(parser: argparse.ArgumentParser, nargs: str = "?") -> None:
    parser.add_argument(
        "path", metavar="PATH", nargs=nargs, default=".", help="project folder (default: .)"
    )

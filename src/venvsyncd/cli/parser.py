"""The argparse tree: one sub-parser per command, each bound to its handler."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from venvsyncd import __version__


class Context(NamedTuple):
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


# Which module registers each command: a command line names one, and only that module is
# imported (a client command such as `status` then starts fast).
COMMAND_MODULES = {
    **dict.fromkeys(("freeze", "add", "remove", "list"), "projects"),
    **dict.fromkeys(("sync", "diff", "history", "undo", "allow"), "syncing"),
    **dict.fromkeys(("status", "stop", "reload", "pause", "resume"), "control"),
    "run": "daemon",
    "start": "start",
    "service": "service",
    "doctor": "doctor",
}
_OPTIONS_WITH_VALUE = ("--config",)


def named_command(argv: Sequence[str]) -> str | None:
    """The command an argv names (its first word that is not a global option), if known."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in _OPTIONS_WITH_VALUE:
            skip = True
        elif not word.startswith("-"):
            return word if word in COMMAND_MODULES else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with `argv`, only the module of the command it names is registered."""
    import importlib

    command = None if argv is None else named_command(argv)
    wanted = (
        [COMMAND_MODULES[command]] if command else list(dict.fromkeys(COMMAND_MODULES.values()))
    )
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
    for name in wanted:
        importlib.import_module(f"venvsyncd.cli.{name}").register(commands, common)
    return parser


def add_path(parser: argparse.ArgumentParser, nargs: str = "?") -> None:
    parser.add_argument(
        "path", metavar="PATH", nargs=nargs, default=".", help="project folder (default: .)"
    )

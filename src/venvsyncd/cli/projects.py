"""Commands about the configured projects: `freeze`, `add`, `remove`, `list`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from venvsyncd.cli.parser import Context, add_path
from venvsyncd.errors import Exit, ProjectError

if TYPE_CHECKING:
    from venvsyncd.config import Config


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    freeze = commands.add_parser(
        "freeze",
        parents=[common],
        help="print the project's freeze (byte-identical to `pip freeze` in its venv)",
    )
    add_path(freeze)
    freeze.set_defaults(handler=cmd_freeze)

    add = commands.add_parser(
        "add", parents=[common], help="add a project to the config and tell a running daemon"
    )
    add_path(add)
    add.add_argument("--venv", metavar="DIR", help="the venv folder, relative to the project")
    add.add_argument("--requirements", metavar="FILE", help="the requirements file")
    add.add_argument("--mode", metavar="M", help="both | freeze | install")
    add.add_argument("--style", metavar="S", help="preserve | pip")
    add.set_defaults(handler=cmd_add)

    remove = commands.add_parser(
        "remove", parents=[common], help="take a project out of the config (files untouched)"
    )
    add_path(remove)
    remove.set_defaults(handler=cmd_remove)

    listing = commands.add_parser("list", parents=[common], help="the configured projects")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_list)


def _load(ctx: Context) -> Config:
    from venvsyncd.config import load_config

    return load_config(ctx.config_file)


def cmd_freeze(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.env.freeze import freeze_text
    from venvsyncd.project import for_path

    project = for_path(_load(ctx), Path(args.path))
    sys.stdout.write(freeze_text(project.load_venv()))
    return Exit.OK


def _display_path(folder: Path) -> str:
    """`~/x` for a folder under the home directory, else the absolute path."""
    home = Path.home()
    if folder.is_relative_to(home) and folder != home:
        return "~/" + folder.relative_to(home).as_posix()
    return str(folder)


def _new_table(args: argparse.Namespace, folder: Path, ctx: Context) -> dict[str, object]:
    from venvsyncd.config import check_project_value

    table: dict[str, object] = {"path": _display_path(folder)}
    for key in ("venv", "requirements", "mode", "style"):
        value = getattr(args, key)
        if value is not None:
            table[key] = check_project_value(key, value, f"--{key}")
    return table


def _refuse_empty_folder(args: argparse.Namespace, folder: Path) -> None:
    from venvsyncd.env.venvs import find_venv

    venv = find_venv(folder, args.venv)
    has_venv = venv is not None and (venv / "pyvenv.cfg").is_file()
    requirements = folder / (args.requirements or "requirements.txt")
    if not has_venv and not requirements.is_file():
        raise ProjectError(
            f"{folder}: neither a virtual environment (.venv, venv, env) nor "
            f"{requirements.name} is there",
            hint=f"create one first: python3 -m venv {folder / '.venv'}  or  touch {requirements}",
        )


def cmd_add(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.configedit import add_project
    from venvsyncd.paths import locations
    from venvsyncd.wire import client

    folder = Path(os.path.abspath(Path(args.path).expanduser()))
    if not folder.is_dir():
        raise ProjectError(f"{folder}: no such folder", hint="give the path of a project folder")
    config = _load(ctx)
    if config.find(folder) is not None:
        print(f"{folder} is already in {ctx.config_file}")
        return Exit.OK
    _refuse_empty_folder(args, folder)
    table = _new_table(args, folder, ctx)
    text = _read_text(ctx.config_file)
    _save(ctx, add_project(text, table), f"add {folder}")
    if ctx.verbosity >= 0:
        print(f"added {folder} to {ctx.config_file}")
    client.notify(locations(ctx.config_file).socket, "add", path=str(folder))
    return Exit.OK


def cmd_remove(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.configedit import remove_project
    from venvsyncd.paths import locations
    from venvsyncd.wire import client

    folder = Path(os.path.abspath(Path(args.path).expanduser()))
    config = _load(ctx)
    entry = config.find(folder)
    if entry is None:
        raise ProjectError(
            f"{folder} is not a project in {ctx.config_file}",
            hint="`venvsyncd list` shows the configured projects",
        )
    index = config.projects.index(entry)
    _save(ctx, remove_project(_read_text(ctx.config_file), index), f"remove {folder}")
    if ctx.verbosity >= 0:
        print(f"removed {folder} from {ctx.config_file} (its files and venv are untouched)")
    client.notify(locations(ctx.config_file).socket, "remove", path=str(folder))
    return Exit.OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.project import resolve

    config = _load(ctx)
    described = [resolve(entry).describe() for entry in config.projects]
    if args.json:
        print(json.dumps({"config": str(ctx.config_file), "projects": described}, indent=2))
        return Exit.OK
    if not described and ctx.verbosity >= 0:
        print(f"no projects in {ctx.config_file}; add one with: venvsyncd add PATH")
    for row in _aligned(described):
        print(row)
    return Exit.OK


def _aligned(projects: list[dict[str, Any]]) -> list[str]:
    columns = ("path", "mode", "style", "python", "venv", "requirements")
    cells = [[str(p[c] if p[c] is not None else "-") for c in columns] for p in projects]
    widths = [max((len(row[i]) for row in cells), default=0) for i in range(len(columns))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]


def _save(ctx: Context, text: str, summary: str) -> None:
    """Write the config atomically, keeping the version it replaces in the state dir (in a
    folder of the user's alone: one that is not refuses the save, exit 1)."""
    from venvsyncd.configedit import save_config_text
    from venvsyncd.engine import journal
    from venvsyncd.engine.snapshot import private_folder
    from venvsyncd.paths import locations

    if ctx.config_file.exists():
        state_dir = locations(ctx.config_file).state_dir
        kept = state_dir / "config"
        private_folder(kept, state_dir)
        journal.record(kept, ctx.config_file, ctx.config_file.read_bytes(), summary)
    save_config_text(ctx.config_file, text)


def _read_text(path: Path) -> str:
    from venvsyncd.config import read_config_text

    return read_config_text(path) or ""

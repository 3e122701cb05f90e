"""Commands that sync without the daemon: `sync`, `diff`, `history`, `undo`, `allow`."""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from venvsyncd.cli.parser import Context, add_path
from venvsyncd.errors import Exit, ProjectError, UsageError

if TYPE_CHECKING:
    from venvsyncd.engine.outcome import Outcome, SyncRequest
    from venvsyncd.engine.store import ProjectStore
    from venvsyncd.project import Project


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    sync = commands.add_parser(
        "sync",
        parents=[common],
        help="one sync now, without the daemon",
        description="Sync the project once. Exit 0 when file and venv agree afterwards, 1 on "
        "drift, conflict or error.",
    )
    add_path(sync)
    sync.add_argument(
        "--from",
        dest="source",
        choices=("env", "file"),
        help="which side wins: settles a conflict or a first sync",
    )
    sync.add_argument(
        "--style",
        choices=("preserve", "top", "pip"),
        help="the style for this sync; `--from env --style top` also converts a freeze-style "
        "file: the lines of what other packages require go (printed first, then done)",
    )
    sync.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sync.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 when out of sync"
    )
    sync.set_defaults(handler=cmd_sync)

    diff = commands.add_parser(
        "diff",
        parents=[common],
        help="how venv and file differ, and which side changed since the last sync",
    )
    add_path(diff)
    diff.set_defaults(handler=cmd_diff)

    history = commands.add_parser(
        "history",
        parents=[common],
        help="earlier versions of the requirements file that venvsyncd replaced",
    )
    add_path(history)
    history.set_defaults(handler=cmd_history)

    undo = commands.add_parser(
        "undo", parents=[common], help="put back the last version venvsyncd replaced"
    )
    add_path(undo)
    undo.set_defaults(handler=cmd_undo)

    allow = commands.add_parser(
        "allow",
        parents=[common],
        help="approve and apply what a held project waits for (new code sources, a source "
        "build, an emptied file, a large removal)",
        description="Approve and apply the change venvsyncd held for the project. Exit 0 when "
        "file and venv agree afterwards, 1 otherwise.",
    )
    add_path(allow)
    allow.add_argument(
        "--show", action="store_true", help="print what would be applied, change nothing"
    )
    allow.set_defaults(handler=cmd_allow)


def _project(ctx: Context, path: str) -> Project:
    from venvsyncd.config import load_config
    from venvsyncd.project import for_path

    return for_path(load_config(ctx.config_file), Path(path))


def _state_dir(ctx: Context) -> Path:
    from venvsyncd.paths import locations

    return locations(ctx.config_file).state_dir


def cmd_sync(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.config import load_config
    from venvsyncd.engine.report import plan_lines
    from venvsyncd.engine.sync import SyncRequest, sync_project

    if args.check and args.dry_run:
        raise UsageError("--check and --dry-run do not go together", hint="use one of them")
    project = _project(ctx, args.path)
    if args.style is not None and project.settings.style != args.style:
        if project.requirements.name == "pyproject.toml":
            raise UsageError(
                "a pyproject.toml lists direct dependencies only: it follows style top always",
                hint="leave out --style",
            )
        project = replace(project, settings=replace(project.settings, style=args.style))
    settings = load_config(ctx.config_file).daemon
    request = SyncRequest(
        args.source,
        args.dry_run or args.check,
        settings.installer,
        history=settings.history,
        config_file=ctx.config_file,
    )
    outcome = sync_project(project, _state_dir(ctx), request)
    for warning in outcome.warnings:
        print(f"venvsyncd: warning: {warning}", file=sys.stderr)
    if outcome.state == "error":
        raise ProjectError(outcome.message or "sync failed")
    if args.check:
        return _report_check(outcome.state, outcome.message, ctx)
    if args.style == "top" and args.source == "env" and outcome.state in ("in-sync", "act"):
        _convert(project, request, ctx)
        if not args.dry_run:
            outcome = sync_project(project, _state_dir(ctx), replace(request, force=None))
    if args.dry_run:
        for line in plan_lines(outcome.plan, project.requirements.name):
            print(line)
        return Exit.OK if outcome.state in ("in-sync", "act") else Exit.FAILED
    return _report_sync(outcome, ctx)


def _convert(project: Project, request: SyncRequest, ctx: Context) -> None:
    """`--from env --style top`: print the lines that go and those kept, then remove them."""
    from venvsyncd.engine.convert import convert_to_top

    done = convert_to_top(project, _state_dir(ctx), request)
    if ctx.verbosity < 0 or not (done.going or done.kept):
        return
    verb = "would go" if request.dry_run else "went"
    print(f"style top: these lines {verb} (other installed packages require them):")
    print("".join(f"  {line}\n" for line in done.going) or "  (none)", end="")
    if done.kept:
        print("these stay, as you wrote them:")
        print("".join(f"  {line}\n" for line in done.kept), end="")
    if done.files and not request.dry_run:
        print("the version before is in `venvsyncd history`; `venvsyncd undo` brings it back")


def _report_check(state: str, message: str | None, ctx: Context) -> int:
    if state == "in-sync":
        if ctx.verbosity >= 0:
            print("in sync")
        return Exit.OK
    print(f"out of sync ({state})" + (f": {message}" if message else ""))
    return Exit.FAILED


def _report_sync(outcome: Outcome, ctx: Context) -> int:
    if outcome.orphans and ctx.verbosity >= 0:
        names = ", ".join(outcome.orphans)
        print(f"orphans (no file names them, nothing needs them): {names}")
    if outcome.state == "in-sync":
        if ctx.verbosity >= 0:
            print(outcome.summary or "in sync: nothing to do")
        return Exit.OK
    print(f"venvsyncd: {outcome.state}: {outcome.message}", file=sys.stderr)
    return Exit.FAILED


def cmd_diff(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.engine.observe import read_env, read_file, requires_map
    from venvsyncd.engine.report import diff_lines
    from venvsyncd.engine.snapshot import StateProblem

    project = _project(ctx, args.path)
    env = read_env(project.load_venv())
    file = read_file(project.requirements, project.dev_files)
    try:
        snapshot = _store(ctx, project).snapshot()
    except StateProblem as exc:
        print(f"venvsyncd: warning: {exc}", file=sys.stderr)
        snapshot = None
    requires = requires_map(env, file.wanted if file else ())
    lines = diff_lines(env, file, snapshot, requires)
    differ = any(line.startswith(("+", "-")) for line in lines) or file is None
    for line in lines:
        print(line)
    if not differ and ctx.verbosity >= 0:
        print("file and venv agree")
    return Exit.FAILED if differ else Exit.OK


def cmd_history(args: argparse.Namespace, ctx: Context) -> int:
    project = _project(ctx, args.path)
    found = _store(ctx, project).versions()
    if not found and ctx.verbosity >= 0:
        print(f"no earlier versions of {project.requirements} were kept")
    for entry in found:
        print(f"#{entry.number:<4} {entry.time}  {entry.summary}")
    return Exit.OK


def cmd_undo(args: argparse.Namespace, ctx: Context) -> int:
    project = _project(ctx, args.path)
    store = _store(ctx, project)
    with store.locked():
        found = store.versions()
        if not found:
            raise ProjectError(
                f"nothing to undo: venvsyncd has not replaced {project.requirements}",
                hint="`venvsyncd history` lists the versions it kept",
            )
        last = found[-1]
        target = _undo_target(project, last.file)
        current = target.read_bytes() if target.exists() else None
        summary = f"undo: back to #{last.number} from {last.time}"
        done = store.write(target, last.content.read_bytes(), summary, current)
    if not done.written:
        raise ProjectError(
            f"{target} changed while `undo` wrote it, so it was left as it is now",
            hint="run `venvsyncd undo` again",
        )
    if ctx.verbosity >= 0:
        print(
            f"{target} is back to #{last.number} ({last.time}); "
            "run `venvsyncd sync` (or let the daemon) make the venv follow"
        )
    return Exit.OK


def _store(ctx: Context, project: Project) -> ProjectStore:
    from venvsyncd.config import load_config
    from venvsyncd.engine.store import ProjectStore

    history = load_config(ctx.config_file).daemon.history
    return ProjectStore(_state_dir(ctx), project.path, history)


def _undo_target(project: Project, recorded: Path) -> Path:
    """The file a journal entry was kept for: an include inside the project, else the
    requirements file (also for an entry whose record was damaged)."""
    import os

    if recorded.is_absolute() and recorded != project.requirements:
        inside = os.path.realpath(recorded).startswith(os.path.realpath(project.path) + os.sep)
        if inside:
            return recorded
    return project.requirements


def cmd_allow(args: argparse.Namespace, ctx: Context) -> int:
    from venvsyncd.config import load_config
    from venvsyncd.engine.report import plan_lines
    from venvsyncd.engine.sync import SyncRequest, sync_project

    project = _project(ctx, args.path)
    settings = load_config(ctx.config_file).daemon
    request = SyncRequest(
        dry_run=args.show,
        installer=settings.installer,
        allow=True,
        history=settings.history,
        config_file=ctx.config_file,
    )
    outcome = sync_project(project, _state_dir(ctx), request)
    for warning in outcome.warnings:
        print(f"venvsyncd: warning: {warning}", file=sys.stderr)
    if outcome.state == "error":
        raise ProjectError(outcome.message or "sync failed")
    if args.show:
        for source in _unapproved(ctx, project):
            print(f"approve source: {source}")
        for line in plan_lines(outcome.plan, project.requirements.name):
            print(line)
        return Exit.OK if outcome.state in ("in-sync", "act") else Exit.FAILED
    _tell_daemon(ctx, project.path)
    return _report_sync(outcome, ctx)


def _unapproved(ctx: Context, project: Project) -> list[str]:
    from venvsyncd.engine.observe import read_file
    from venvsyncd.engine.trust import unapproved

    file = read_file(project.requirements, project.dev_files)
    return [] if file is None else unapproved(project, _store(ctx, project).folder, file)


def _tell_daemon(ctx: Context, path: Path) -> None:
    """Let a running daemon look at the project now (best effort: none running is fine)."""
    from venvsyncd.errors import VenvsyncdError
    from venvsyncd.paths import locations
    from venvsyncd.wire import client

    with contextlib.suppress(VenvsyncdError):
        client.notify(locations(ctx.config_file).socket, "sync", path=str(path))

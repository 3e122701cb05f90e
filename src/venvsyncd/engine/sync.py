"""One sync of one project: observe both sides, decide, act, remember. The engine's shell.

Used by `venvsyncd sync`, `allow` and the daemon's worker. A sync is a few rounds, each
reading both sides afresh, deciding, and taking one step: an install (after which the env is
recorded as far as that install explains it, `explain.py`) or a write of the files (a
compare-and-swap: a save that landed since the read makes the round plan again from it).
It ends when a round finds nothing to do, or a state the user must settle.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from venvsyncd.engine.observe import read_file
from venvsyncd.engine.outcome import Outcome, SyncRequest
from venvsyncd.engine.plan import Plan
from venvsyncd.engine.rounds import one_round
from venvsyncd.engine.store import ProjectStore
from venvsyncd.engine.trust import approvals, approve
from venvsyncd.env.commands import CommandError
from venvsyncd.env.index import IndexUnreachable
from venvsyncd.errors import ProjectError
from venvsyncd.project import Project

__all__ = ["Outcome", "SyncRequest", "sync_project"]

MAX_ROUNDS = 6  # an install, a write, and room for saves that race with them


def sync_project(project: Project, state_dir: Path, request: SyncRequest) -> Outcome:
    store = ProjectStore(state_dir, project.path, request.history)
    try:
        with store.locked():
            return _rounds(project, store, request)
    except CommandError as exc:
        return Outcome("error", Plan("error"), message=exc.message)
    except ProjectError as exc:  # an index out of reach: tried again, like a full disk
        message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        retry = isinstance(exc, IndexUnreachable)
        return Outcome("error", Plan("error"), message=message, retry=retry)
    except OSError as exc:  # a full disk, a folder made unwritable: the system's, not ours
        return Outcome("error", Plan("error"), message=_system_error(exc), retry=True)


def _system_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return (
        f"{where}{exc.strerror or exc}; nothing was lost (free some space or fix the "
        "permissions: venvsyncd tries again at its next rescan, or run `venvsyncd sync`)"
    )


def _rounds(project: Project, store: ProjectStore, request: SyncRequest) -> Outcome:
    if not project.path.is_dir():
        raise ProjectError(
            f"the project folder {project.path} is gone (renamed or deleted); nothing was "
            "changed, and venvsyncd picks it up again when it is back",
            hint=f"put it back, or stop watching it: venvsyncd remove {project.path}",
        )
    if not request.dry_run:
        store.sweep(project.requirements)
    done: list[str] = []
    warnings: tuple[str, ...] = ()
    for _ in range(MAX_ROUNDS):
        step = one_round(project, store, request)
        done += [step.summary] if step.summary else []
        warnings += step.warnings
        if step.outcome is not None:
            if request.allow and not request.dry_run and step.outcome.state == "in-sync":
                _approve(project, store)
            summary = "; ".join(done)
            return replace(
                step.outcome, summary=summary, warnings=warnings, venv_mark=step.venv_mark
            )
        reason = request.busy() if request.busy is not None else None
        if reason is not None:
            return _unfinished(done, warnings, f"waiting: {reason}")
    return _unfinished(done, warnings, "the file or the venv kept changing during the sync")


def _unfinished(done: list[str], warnings: tuple[str, ...], why: str) -> Outcome:
    """A sync that stopped between rounds: what it did is recorded; the rest comes next."""
    return Outcome("pending", Plan("act"), "; ".join(done), why, warnings=warnings, retry=True)


def _approve(project: Project, store: ProjectStore) -> None:
    """`venvsyncd allow` applied the files: what they name is approved from now on."""
    file = read_file(project.requirements, project.dev_files)
    if file is not None:
        before = approvals(project, store.folder, file, None, dry=False)
        approve(project, store.folder, file, before)

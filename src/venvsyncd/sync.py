"""One sync of one project: observe both sides, decide, act, remember. The engine's shell.

Used by `venvsyncd sync` and, later, by the daemon's worker. Every rewrite of the user's file
goes through `write_requirements` (journal first, then an atomic replace).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from venvsyncd.editor import EnvDelta, apply_pip_style, apply_preserve, render_change
from venvsyncd.errors import ProjectError
from venvsyncd.installer import choose_installer, create_venv, install, uninstall
from venvsyncd.observe import EnvSide, FileSide, read_env, read_file, requires_map, with_top
from venvsyncd.plan import Inputs, Plan, decide
from venvsyncd.project import Project
from venvsyncd.rewrite import project_lock, refuse_read_only, sweep, write_requirements
from venvsyncd.runner import CommandError
from venvsyncd.state import (
    PENDING,
    Snapshot,
    StateProblem,
    load_snapshot,
    project_state_dir,
    save_snapshot,
    settle_pending,
    utc_now,
    venv_identity,
)


@dataclass(frozen=True)
class Outcome:
    state: str  # "in-sync", "drift", "conflict", "error"; with dry_run/check: what would be
    plan: Plan
    summary: str = ""  # what changed, for logs and `last_change`
    message: str | None = None
    wrote_file: bool = False
    packages: int = 0
    warnings: tuple[str, ...] = ()
    file_digest: str | None = None  # sha256 of the file content the snapshot now holds
    retry: bool = False  # an error of the system (disk full, permissions): try again later


def _digest(file: FileSide | None) -> str | None:
    return None if file is None else hashlib.sha256(file.data).hexdigest()


@dataclass(frozen=True)
class SyncRequest:
    force: str | None = None  # "env" | "file"
    dry_run: bool = False  # decide and report, change nothing
    installer: str = "auto"


def sync_project(project: Project, state_dir: Path, request: SyncRequest) -> Outcome:
    folder = project_state_dir(state_dir, project.path)
    try:
        with project_lock(folder):
            return _sync_locked(project, folder, request)
    except CommandError as exc:
        return Outcome("error", Plan("error"), message=exc.message)
    except ProjectError as exc:
        message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return Outcome("error", Plan("error"), message=message)
    except OSError as exc:  # a full disk, a folder made unwritable: the system's, not ours
        return Outcome("error", Plan("error"), message=_system_error(exc), retry=True)


def _system_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return (
        f"{where}{exc.strerror or exc}; nothing was lost (free some space or fix the "
        "permissions: venvsyncd tries again at its next rescan, or run `venvsyncd sync`)"
    )


def _load_snapshot(
    project: Project, folder: Path, file: FileSide | None, dry: bool
) -> tuple[Snapshot | None, tuple[str, ...]]:
    text = None if file is None else file.texts.get(str(project.requirements))
    pending = settle_pending(folder, project.requirements, text, dry)
    if pending is not None:
        return pending, ("the last sync was stopped after it rewrote the file: completed",)
    try:
        return load_snapshot(folder), ()
    except StateProblem as exc:
        return None, (f"{exc}; it will be rebuilt",)


def _sync_locked(project: Project, folder: Path, request: SyncRequest) -> Outcome:
    if not project.path.is_dir():
        raise ProjectError(
            f"the project folder {project.path} is gone (renamed or deleted); nothing was "
            "changed, and venvsyncd picks it up again when it is back",
            hint=f"put it back, or stop watching it: venvsyncd remove {project.path}",
        )
    if not request.dry_run:
        sweep(folder, project.requirements)
    file = read_file(project.requirements)
    if not project.venv_exists():
        return _missing_venv(project, folder, file, request)
    env = read_env(project.load_venv())
    snapshot, warnings = _load_snapshot(project, folder, file, request.dry_run)
    if snapshot is not None and snapshot.venv_id not in ("", venv_identity(project.venv_root)):
        warnings += ("the venv was made anew since the last sync: its earlier state is forgotten",)
        snapshot = None
    plan = decide(_inputs(project, env, file, snapshot, request))
    if plan.state != "act" or request.dry_run:
        if plan.state == "in-sync" and not request.dry_run:
            _remember(project, folder, env, file, snapshot)
        return Outcome(
            plan.state,
            plan,
            _summary(plan, project),
            plan.message,
            packages=len(env.frozen),
            warnings=warnings,
            file_digest=_digest(file),
        )
    outcome = _apply(project, folder, env, file, plan, request)
    return replace(outcome, warnings=warnings)


def _inputs(
    project: Project,
    env: EnvSide,
    file: FileSide | None,
    snap: Snapshot | None,
    request: SyncRequest,
) -> Inputs:
    first = snap is None
    return Inputs(
        frozen=env.frozen,
        installed=env.installed,
        wanted=None if file is None else file.wanted,
        snapshot_frozen=None if snap is None else snap.installed,
        snapshot_wanted=() if snap is None else snap.wanted,
        requires=requires_map(env.venv, env.marker_env) if first else {},
        marker_env=env.marker_env,
        mode=project.settings.mode,
        initial=project.settings.initial,
        force=request.force,
    )


def _apply(
    project: Project,
    folder: Path,
    env: EnvSide,
    file: FileSide | None,
    plan: Plan,
    request: SyncRequest,
) -> Outcome:
    if plan.touches_file and project.settings.mode != "install":
        refuse_read_only(project.requirements)  # before anything is installed
    if plan.touches_env:
        venv_id = venv_identity(project.venv_root)
        _run_installer(project, env, file, plan, request.installer)
        env = read_env(env.venv)
        _still_there(project, venv_id)
    new_bytes = _file_after(project, env, file, plan)
    wrote = False
    if new_bytes is not None and (file is None or new_bytes != file.data):
        # Remember what we wrote, not what is on disk now: a save that raced with this
        # write must still look like a change next time.
        written = None if file is None else with_top(file, new_bytes)
        if written is not None:  # announced first, in case this process dies half way
            save_snapshot(folder, project.path, _snapshot_of(project, env, written), PENDING)
        write_requirements(folder, project.requirements, new_bytes, _summary(plan, project))
        wrote = True
        file = read_file(project.requirements) if written is None else written
    _remember(project, folder, env, file, None)
    summary = _summary(plan, project)
    return Outcome(
        "in-sync", plan, summary, None, wrote, len(env.frozen), file_digest=_digest(file)
    )


def _run_installer(
    project: Project, env: EnvSide, file: FileSide | None, plan: Plan, setting: str
) -> None:
    installer = choose_installer(setting)
    cwd = project.requirements.parent
    if plan.install:
        options = file.install_options() if file is not None else []
        args = [arg for wanted in plan.install for arg in wanted.args]
        install(installer, env.venv, [*options, *args], cwd)
    if plan.uninstall:
        uninstall(installer, env.venv, plan.uninstall)


def _still_there(project: Project, venv_id: str) -> None:
    """The venv the installer ran on is still there: a venv deleted (or made anew) under it
    must not be written into the file as if its packages had been uninstalled."""
    if venv_identity(project.venv_root) == venv_id and project.venv_exists():
        return
    raise ProjectError(
        f"{project.venv_root} was deleted or replaced while venvsyncd installed into it; "
        f"{project.requirements.name} was not touched",
        hint="make the venv again and venvsyncd fills it from the file",
    )


def _file_after(project: Project, env: EnvSide, file: FileSide | None, plan: Plan) -> bytes | None:
    """The file's new bytes, or None when the file is not to be written."""
    if project.settings.mode == "install":
        return None
    if project.settings.style == "pip":
        return apply_pip_style(env.frozen) if plan.touches_file or plan.touches_env else None
    if not plan.touches_file:
        return None
    if file is None:
        return apply_pip_style(env.frozen)
    if file.top.has_hashes():
        raise ProjectError(
            f"{project.requirements} has --hash options, so venvsyncd cannot rewrite it "
            "losslessly; nothing was changed",
            hint="regenerate the file with its hashing tool (pip-compile --generate-hashes), "
            "or run `venvsyncd sync --from file`",
        )
    return apply_preserve(file.top, _visible(plan.edit, file), env.marker_env).to_bytes()


def _visible(delta: EnvDelta, file: FileSide) -> EnvDelta:
    """Packages named only in an included file are that file's business: not added on top."""
    included = {w.name for w in file.wanted if w.name is not None}
    own = {line.name for line in file.top.requirements() if line.name is not None}
    elsewhere = included - own
    return replace(
        delta,
        added=tuple(d for d in delta.added if d.name not in elsewhere),
        removed=tuple(n for n in delta.removed if n not in elsewhere),
        changed=tuple(d for d in delta.changed if d.name not in elsewhere),
    )


def _snapshot_of(project: Project, env: EnvSide, file: FileSide | None) -> Snapshot:
    texts = {} if file is None else file.texts
    wanted = () if file is None else file.wanted
    return Snapshot(texts, wanted, env.frozen, utc_now(), venv_identity(project.venv_root))


def _remember(
    project: Project, folder: Path, env: EnvSide, file: FileSide | None, snap: Snapshot | None
) -> None:
    fresh = _snapshot_of(project, env, file)
    now = (fresh.files, fresh.installed, fresh.venv_id)
    if snap is not None and (snap.files, snap.installed, snap.venv_id) == now:
        return
    save_snapshot(folder, project.path, fresh)


def _summary(plan: Plan, project: Project) -> str:
    parts = []
    if plan.install or plan.uninstall:
        installed = " ".join("+" + " ".join(w.args) for w in plan.install)
        removed = " ".join(f"-{name}" for name in plan.uninstall)
        parts.append(
            f"{project.requirements.name} -> " + " ".join(filter(None, (installed, removed)))
        )
    if plan.touches_file:
        parts.append(f"{render_change(plan.edit)} -> {project.requirements.name}")
    return "; ".join(parts)


def _missing_venv(
    project: Project, folder: Path, file: FileSide | None, request: SyncRequest
) -> Outcome:
    settings = project.settings
    if file is None or not settings.create_venv or settings.mode == "freeze":
        raise ProjectError(
            f"{project.path}: no virtual environment"
            + ("" if file is None else " (create_venv is off)"),
            hint=f"create one: python3 -m venv {project.venv_root}",
        )
    plan = Plan("act", install=file.wanted)
    summary = f"created {project.venv_root.name} with {settings.python}; " + _summary(plan, project)
    if request.dry_run:
        return Outcome("act", plan, summary)
    venv = create_venv(project.venv_root, settings.python)
    installer = choose_installer(request.installer)
    args = ["-r", str(project.requirements)]
    install(installer, venv, args, project.requirements.parent)
    env = read_env(venv)
    _remember(project, folder, env, file, None)
    return Outcome("in-sync", plan, summary, packages=len(env.frozen), file_digest=_digest(file))

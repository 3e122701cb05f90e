"""One round of a sync: read both sides, decide, and take one step (see `sync.py`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from venvsyncd.engine.explain import agreed_env, explained, owed_by
from venvsyncd.engine.hashing import hashes_for
from venvsyncd.engine.health import autoremoved, looked_over, record_in_sync
from venvsyncd.engine.installing import missing_venv, run_installer, still_there
from venvsyncd.engine.observe import (
    EnvSide,
    FileSide,
    check_paths,
    read_env,
    read_file,
    requires_map,
    unchanged,
    with_files,
)
from venvsyncd.engine.outcome import Outcome, Step, SyncRequest, digests
from venvsyncd.engine.plan import Inputs, Plan, decide, file_delta
from venvsyncd.engine.report import install_summary
from venvsyncd.engine.restore import freeze_overwrite, raced, venv_gone, write_back
from venvsyncd.engine.snapshot import (
    Snapshot,
    StateProblem,
    utc_now,
    venv_identity,
)
from venvsyncd.engine.store import ProjectStore, refuse_read_only
from venvsyncd.engine.trust import (
    Approvals,
    approvals,
    binary_only,
    held_for_sources,
    unattended,
    wheels_only_failure,
)
from venvsyncd.engine.writeback import (
    LookedUp,
    planned_writes,
    read_compiled_from,
    required_by_others,
    top_level,
)
from venvsyncd.env.busy import venv_mark
from venvsyncd.env.commands import CommandError
from venvsyncd.project import Project
from venvsyncd.system import insync


class Sides(NamedTuple):
    """What a round read: the project, its store, both sides and the snapshot."""

    project: Project
    store: ProjectStore
    env: EnvSide
    file: FileSide | None
    snapshot: Snapshot | None
    request: SyncRequest
    approved: Approvals  # the code sources and builds the user approved (engine/trust.py)


def one_round(project: Project, store: ProjectStore, request: SyncRequest) -> Step:
    file = read_file(project.requirements, project.dev_files)
    if not project.venv_exists():
        return _fill_new_venv(project, store, file, request)
    venv = project.load_venv()
    if not request.dry_run:
        store.remember_venv(project.venv_root)
    mark = venv_mark(venv)  # before the read: a change after it must not pass for an echo
    env = read_env(venv)
    snapshot, warnings = _load_snapshot(store, file, request.dry_run)
    if snapshot is not None and snapshot.venv_id not in ("", venv_identity(project.venv_root)):
        warnings += ("the venv was made anew since the last sync: its earlier state is forgotten",)
        snapshot = None
    if file is not None:
        check_paths(file)
    approved = approvals(project, store.folder, file, snapshot, request.dry_run)
    sides = Sides(project, store, env, file, snapshot, request, approved)
    restored = None if request.dry_run else freeze_overwrite(project, env, file, snapshot)
    step = None
    if restored is not None and file is not None:
        step = write_back(store, project.requirements, file, restored)
    if step is not None:
        return step._replace(warnings=warnings, venv_mark=mark)
    plan = decide(_inputs(sides))
    if project.settings.autoremove and not request.dry_run:
        plan = autoremoved(plan, project.settings.mode, env, file, store)
    if file is not None and not request.allow:
        plan = held_for_sources(project, file, approved, plan)
    if plan.state != "act" or request.dry_run:
        return Step(_settled(sides, plan), warnings=warnings, venv_mark=mark)
    step = _install(sides, plan) if plan.touches_env else _write(sides, plan)
    return step._replace(warnings=warnings + step.warnings, venv_mark=mark)


def _load_snapshot(
    store: ProjectStore, file: FileSide | None, dry: bool
) -> tuple[Snapshot | None, tuple[str, ...]]:
    pending = store.settle_pending(None if file is None else file.texts, dry)
    if pending is not None:
        return pending, ("the last sync was stopped after it rewrote the file: completed",)
    try:
        return store.snapshot(), ()
    except StateProblem as exc:
        return None, (f"{exc}; it will be rebuilt",)


def _inputs(sides: Sides) -> Inputs:
    env, file, snap, request = sides.env, sides.file, sides.snapshot, sides.request
    removes = (
        file is not None and snap is not None and bool(file_delta(snap.wanted, file.wanted)[1])
    )
    return Inputs(
        frozen=env.frozen,
        installed=env.installed,
        wanted=None if file is None else file.wanted,
        snapshot_frozen=None if snap is None else snap.installed,
        snapshot_wanted=() if snap is None else snap.wanted,
        requires=requires_map(env, file.wanted if file else ()) if snap is None or removes else {},
        marker_env=env.marker_env,
        mode=sides.project.settings.mode,
        initial=sides.project.settings.initial,
        force=request.force,
        allow=request.allow,
        file_blank=file is not None and file.blank,
    )


def _settled(sides: Sides, plan: Plan) -> Outcome:
    """A round that takes no step: nothing to do, a state for the user, or a dry run."""
    project, env, file = sides.project, sides.env, sides.file
    dry = sides.request.dry_run
    if not dry and plan.state == "in-sync":
        _remember(sides, env, file)
    if not dry and plan.state == "held":
        _keep_for_undo(sides, "the version before the change venvsyncd held")
    summary = install_summary(plan, project.requirements.name) if dry else ""
    return Outcome(
        plan.state,
        plan,
        summary,
        plan.message,
        packages=len(env.frozen),
        digests=digests(file),
        **_checked(sides, file, plan.state, dry),
    )


def _install(sides: Sides, plan: Plan) -> Step:
    """Run the installer for the plan, then record the env as far as the install explains it."""
    project, env, file, snap = sides.project, sides.env, sides.file, sides.snapshot
    if plan.touches_file and project.settings.mode != "install":
        refuse_read_only(project.requirements)  # before anything is installed
    if not unchanged(file, project.requirements):
        return Step(None, warnings=("the file changed while the sync planned: planned again",))
    if plan.uninstall:
        _keep_for_undo(
            sides, "the version before a change that uninstalled " + ", ".join(plan.uninstall)
        )
    venv_id = venv_identity(project.venv_root)
    request = sides.request
    wheels_only = unattended(request, project) and binary_only(plan.install, sides.approved)
    try:
        run_installer(project, env, file, plan, wheels_only, request.installer)
    except CommandError as exc:
        if not wheels_only:
            raise
        raise wheels_only_failure(project, plan, exc) from exc
    after = read_env(env.venv)
    still_there(project, venv_id)
    requires = requires_map(after, file.wanted if file else ())
    explains = explained(plan.install, plan.uninstall, after.installed, requires)
    owed = owed_by(plan.edit, {d.name: d for d in snap.installed} if snap is not None else {})
    if project.settings.style == "pip" and project.settings.mode != "install":
        before = {d.name: d for d in env.frozen}
        owed.update({n: before.get(n) for n in explains if n not in owed})
    agreed = agreed_env(env.frozen, after.frozen, explains, owed)
    texts = {} if file is None else file.texts
    wanted = () if file is None else file.wanted
    sides.store.save(Snapshot(texts, wanted, agreed, utc_now(), venv_id))
    return Step(None, install_summary(plan, project.requirements.name))


def _write(sides: Sides, plan: Plan) -> Step:
    """Write the env's changes into the file(s), each a compare-and-swap of what was read."""
    project, store, env, file = sides.project, sides.store, sides.env, sides.file
    required = None
    if project.settings.style == "top":
        required = required_by_others(env, file)
        plan = replace(plan, edit=top_level(plan.edit, required))
    hashes = hashes_for(project, env, file, plan, sides.request.installer)
    looked = LookedUp(read_compiled_from(project, env, file, plan), hashes, required)
    writes = planned_writes(project, env, file, plan, looked)
    if writes.outside is not None:
        return Step(_final(sides, "drift", plan, file, writes.outside))
    if not writes.files:
        _remember(sides, env, file)
        return Step(
            _final(sides, "in-sync", plan, file), install_summary(plan, project.requirements.name)
        )
    for path in writes.files:
        refuse_read_only(path)
    made = [p for p in project.dev_files if p in writes.files and writes.expected.get(p) is None]
    written = None if file is None else with_files(file, writes.files, made)
    if written is not None:  # announced first, in case this process dies half way
        store.save_pending(_snapshot_of(sides, env, written))
    for path, data in writes.files.items():
        expected = writes.expected.get(path, None if file is None else file.bytes_of(path))
        result = store.write(path, data, writes.summary, expected)
        if not result.written:
            store.drop_pending()
            if result.found == expected:  # unchanged, but a program holds it open to write
                why = f"waiting: a program has {path.name} open for writing"
                return Step(Outcome("pending", plan, message=why, retry=True))
            return Step(None, warnings=(raced(path, len(result.displaced)),))
    if written is None:
        now = read_file(project.requirements, project.dev_files)
        _remember(sides, env, now)
    else:  # the pending snapshot is the one to keep: made true, it needs no second encoding
        now = written
        store.promote_pending()
    if project.settings.autoremove and project.settings.mode != "freeze":
        return Step(None, writes.summary)  # a line went: the next round looks for orphans
    return Step(_final(sides, "in-sync", plan, now), writes.summary)


def _final(
    sides: Sides, state: str, plan: Plan, file: FileSide | None, message: str | None = None
) -> Outcome:
    return Outcome(
        state,
        plan,
        message=message,
        packages=len(sides.env.frozen),
        digests=digests(file),
        **_checked(sides, file, state),
    )


def _checked(sides: Sides, file: FileSide | None, state: str, dry: bool = False) -> dict[str, Any]:
    """The venv's health for the outcome (none for a dry run), and in sync the record a
    whole-process `sync --check` verifies (`health.record_in_sync`; a dry run leaves it too)."""
    if state == "in-sync":
        record_in_sync(sides.store, sides.request, sides.project, sides.env, file)
    else:
        insync.remove(str(sides.store.folder))
    return {} if dry else looked_over(sides.env, file, sides.store, state == "in-sync")._asdict()


def _keep_for_undo(sides: Sides, why: str) -> None:
    """Keep the file as the snapshot knew it in the journal, so that `undo` brings it back."""
    project, snap, file = sides.project, sides.snapshot, sides.file
    key = str(project.requirements)
    previous = None if snap is None else snap.files.get(key)
    if previous is None or (file is not None and previous == file.texts.get(key)):
        return
    data = previous.encode("utf-8") if file is None else file.bytes_for(key, previous)
    sides.store.keep(project.requirements, data, why)


def _fill_new_venv(
    project: Project, store: ProjectStore, file: FileSide | None, request: SyncRequest
) -> Step:
    had = store.remembered_venv()
    if had is not None and request.force != "file":  # the user's venv: wait, make no other
        return Step(Outcome("drift", Plan("drift"), message=venv_gone(project, had)))
    project = project if had is None else replace(project, venv_root=had)
    approved = approvals(project, store.folder, file, None, request.dry_run)
    if file is not None and not request.allow:
        check_paths(file)
        held = held_for_sources(project, file, approved, Plan("act", install=file.wanted))
        if held.state == "held":
            return Step(Outcome("held", held, message=held.message))
    wheels_only = request.unattended and project.settings.trust != "all"
    wheels_only = wheels_only and binary_only(() if file is None else file.wanted, approved)
    plan, summary, env = missing_venv(project, file, request, wheels_only)
    if env is None:
        return Step(Outcome("act", plan, summary))
    sides = Sides(project, store, env, file, None, request, approved)
    _remember(sides, env, file)
    return Step(_final(sides, "in-sync", plan, file), summary)


def _snapshot_of(sides: Sides, env: EnvSide, file: FileSide | None) -> Snapshot:
    texts = {} if file is None else file.texts
    wanted = () if file is None else file.wanted
    return Snapshot(texts, wanted, env.frozen, utc_now(), venv_identity(sides.project.venv_root))


def _remember(sides: Sides, env: EnvSide, file: FileSide | None) -> None:
    fresh = _snapshot_of(sides, env, file)
    snap = sides.snapshot
    if snap is not None and (snap.files, snap.installed, snap.venv_id) == (
        fresh.files,
        fresh.installed,
        fresh.venv_id,
    ):
        return
    sides.store.save(fresh)

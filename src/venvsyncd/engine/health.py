"""What the venv says beyond the sync itself: the lines `pip check` would print, and the
orphans, installed packages nothing asked for and nothing needs.

An orphan is an installed package that no requirements file names and that no named package
requires, directly or through others (with the extras the files ask for); pip, setuptools,
wheel and venvsyncd never are. When a requirement leaves (its line removed, or `pip uninstall`
of it), what it brought becomes orphans: listed by `sync`, the daemon's log and `status`, and
with `autoremove = true` uninstalled in the next round. Only orphans that are new since the
last sync are removed (the store remembers the last list), so a package that was already
unasked-for when venvsyncd first looked is listed, never removed on its own.
"""

from __future__ import annotations

from typing import NamedTuple

from venvsyncd.engine.observe import EnvSide, FileSide
from venvsyncd.engine.outcome import SyncRequest, digests
from venvsyncd.engine.plan import Plan
from venvsyncd.engine.snapshot import SNAPSHOT
from venvsyncd.engine.store import ProjectStore
from venvsyncd.env.plainvenv import site_decides_freeze
from venvsyncd.project import Project
from venvsyncd.requirements.wanted import PROTECTED
from venvsyncd.system import insync


class Health(NamedTuple):
    """As `Outcome` holds them."""

    broken: tuple[str, ...]  # what `pip check` would print
    orphans: tuple[str, ...]  # sorted canonical names
    new_orphans: tuple[str, ...] = ()  # those the last sync did not list


def health(env: EnvSide, file: FileSide | None) -> Health:
    """The venv's `pip check` lines and orphans; none of the latter without a file (it names
    nothing yet)."""
    from venvsyncd.env.deps import read_dependencies  # importlib.metadata: not for `--check`

    deps = read_dependencies(env.venv, env.marker_env, env.found)
    if file is None:
        return Health(deps.broken(), ())
    named = {line.name for req in (file.top, *file.includes) for line in req.requirements()}
    roots = {name for name in named if name is not None} | PROTECTED
    extras = {w.name: w.extras for w in file.wanted if w.name is not None and w.extras}
    return Health(deps.broken(), deps.orphans(roots, extras))


def new_orphans(orphans: tuple[str, ...], known: frozenset[str] | None) -> tuple[str, ...]:
    """The orphans not listed by the last sync (none the first time: those were there)."""
    return () if known is None else tuple(name for name in orphans if name not in known)


def looked_over(env: EnvSide, file: FileSide | None, store: ProjectStore, in_sync: bool) -> Health:
    """`health`, with which orphans are new; in sync, the orphans are remembered for the
    next sync to compare with."""
    found = health(env, file)
    known = store.known_orphans()
    if in_sync:
        store.remember_orphans(frozenset(found.orphans))
    return found._replace(new_orphans=new_orphans(found.orphans, known))


def autoremoved(
    plan: Plan, mode: str, env: EnvSide, file: FileSide | None, store: ProjectStore
) -> Plan:
    """With `autoremove = true`: a round with nothing else to do uninstalls the new orphans
    (not in mode "freeze", where the venv is the user's alone)."""
    if plan.state != "in-sync" or mode == "freeze":
        return plan
    gone = new_orphans(health(env, file).orphans, store.known_orphans())
    return Plan("act", uninstall=gone) if gone else plan


def record_in_sync(
    store: ProjectStore,
    request: SyncRequest,
    project: Project,
    env: EnvSide,
    file: FileSide | None,
) -> None:
    """A sync that ends in sync leaves the record a whole-process `sync --check` verifies
    (system/insync.py), for a venv whose freeze only site-packages' entries decide; a venv
    with editables, the system's site-packages or `.pth`-added folders gets none."""
    folder, config = str(store.folder), request.config_file
    mark = env.site_mark
    entries = None if env.found is None else env.found.entries  # the venv's path, as read
    if (
        file is None
        or config is None
        or mark is None
        or not site_decides_freeze(env.venv, env.frozen, entries)
    ):
        insync.remove(folder)
        return
    files = dict(digests(file))  # the sha256 of each file the round read, as Outcome has them
    files.update({str(p): "-" for p in project.dev_files if str(p) not in files})
    snapshot, site = str(store.folder / SNAPSHOT), str(env.venv.site_packages)
    if any("\n" in path for path in (*files, snapshot, site, str(config))):
        insync.remove(folder)  # a record is lines
        return
    freeze = "".join(line + "\n" for dist in env.frozen for line in dist.lines)
    try:  # an optimisation only: a record that cannot be written is no record
        text = insync.record_text(str(config), snapshot, files, site, mark, freeze)
        insync.write(folder, text)
    except OSError:
        insync.remove(folder)

"""Where an env change is written: the file that names each package, and its new bytes. Pure.

A package the top requirements file names is edited there; one that an `-r` include names is
edited in that include (by the same lossless rules), so long as the include is inside the
project folder: venvsyncd writes nothing outside it (an include there, or the file itself
when it is a symlink out of the project), and says so instead. A new package goes
to the top file. A change to a package that no file names (a dependency) writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from venvsyncd.engine.observe import EnvSide, FileSide
from venvsyncd.engine.plan import Plan
from venvsyncd.env.dists import FrozenDist
from venvsyncd.project import Project
from venvsyncd.requirements.edit import EnvDelta, apply_pip_style, apply_preserve, render_change
from venvsyncd.requirements.file import RequirementsFile


class Writes(NamedTuple):
    files: dict[Path, bytes]  # the files whose bytes change -> their new bytes
    summary: str  # what is written where: "+beta==1.0 -> requirements.txt; ~alpha 2.0 -> base.txt"
    outside: str | None = None  # why nothing is written: a change belongs in a file outside


NO_WRITES = Writes({}, "")


def planned_writes(project: Project, env: EnvSide, file: FileSide | None, plan: Plan) -> Writes:
    """The writes `plan` makes of the requirements file(s) for the env as it is now."""
    if project.settings.mode == "install" or not plan.touches_file:
        return NO_WRITES
    if file is None or project.settings.style == "pip":
        data = apply_pip_style(env.frozen, None if file is None else file.top)
        if file is not None and data == file.data:
            return NO_WRITES
        what = f"{len(env.frozen)} packages" if file is None else render_change(plan.edit)
        return Writes({project.requirements: data}, f"{what} -> {project.requirements.name}")
    return _preserve_writes(project, env, file, plan.edit)


def _preserve_writes(project: Project, env: EnvSide, file: FileSide, delta: EnvDelta) -> Writes:
    owners = _owners(file)
    files: dict[Path, bytes] = {}
    parts: list[str] = []
    outside: list[str] = []
    for req in (file.top, *file.includes):
        share = _share(delta, req, owners, is_top=req is file.top)
        if share.empty:
            continue
        name = _shown(project, req.source)
        if not _inside(project.path, req.source):  # an include, or a file linked, outside
            outside.append(f"{render_change(share)} belongs in {_described(req.source)}")
            continue
        data = apply_preserve(req, share, env.marker_env).to_bytes()
        if data != req.to_bytes():
            files[req.source] = data
            parts.append(f"{render_change(share)} -> {name}")
    if outside:
        why = "; ".join(outside)
        return Writes(
            {},
            "",
            f"{why}, outside the project folder, which venvsyncd never writes: nothing was "
            "written. Edit that file yourself, or run `venvsyncd sync --from file` to make "
            "the venv follow the files",
        )
    return Writes(files, "; ".join(parts))


def _owners(file: FileSide) -> dict[str, Path]:
    """Canonical name -> the first file (top, then includes) with a requirement line for it."""
    owners: dict[str, Path] = {}
    for req in (file.top, *file.includes):
        if req.constraint:
            continue
        for line in req.requirements():
            if line.name is not None:
                owners.setdefault(line.name, req.source)
    return owners


def _share(
    delta: EnvDelta, req: RequirementsFile, owners: dict[str, Path], is_top: bool
) -> EnvDelta:
    """The part of `delta` that is this file's to write."""

    def mine(name: str) -> bool:
        owner = owners.get(name)
        return owner == req.source or (owner is None and is_top)

    changed = tuple(d for d in delta.changed if owners.get(d.name) == req.source)
    return replace(
        delta,
        added=tuple(d for d in delta.added if mine(d.name)),
        removed=tuple(n for n in delta.removed if owners.get(n) == req.source),
        changed=changed,
        previous=_previous(delta.previous, changed),
    )


def _previous(
    previous: Iterable[FrozenDist], changed: tuple[FrozenDist, ...]
) -> tuple[FrozenDist, ...]:
    names = {d.name for d in changed}
    return tuple(d for d in previous if d.name in names)


def _inside(folder: Path, path: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def _shown(project: Project, path: Path) -> str:
    """How a file is named in summaries: relative to the project folder when inside it."""
    if path == project.requirements:
        return path.name
    try:
        return str(path.relative_to(project.path))
    except ValueError:
        return str(path)


def _described(path: Path) -> str:
    """The file, and where it really is when it is a link."""
    real = os.path.realpath(path)
    return str(path) if real == str(path) else f"{path} (a link to {real})"

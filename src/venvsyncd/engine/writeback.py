"""Where an env change is written: the file that names each package, and its new bytes. Pure.

A package the top requirements file names is edited there; one that an `-r` include names is
edited in that include (by the same lossless rules), so long as the include is inside the
project folder: venvsyncd writes nothing outside it (an include there, or the file itself
when it is a symlink out of the project), and says so instead. A new package goes
to the top file. A change to a package that no file names (a dependency) writes nothing.

A top file that pip-compile made from a `.in` file in the project (its header says which)
stays one: a package the user installed at top level (one no other installed package
requires) is added to that `.in` file too, by the same lossless rules, so that the next
pip-compile keeps it. `read_compiled_from` reads what that takes (the `.in` file and what the
installed packages require); everything else here is pure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from venvsyncd.engine.hashing import Hashes
from venvsyncd.engine.observe import EnvSide, FileSide, requires_map
from venvsyncd.engine.plan import Plan
from venvsyncd.engine.pyproject_writes import NO_PYPROJECT, pyproject_writes
from venvsyncd.engine.routing import home_of, inside, share
from venvsyncd.env.dists import FrozenDist
from venvsyncd.project import Project
from venvsyncd.requirements.compiled import compiled_from
from venvsyncd.requirements.edit import EnvDelta, apply_pip_style, apply_preserve, render_change
from venvsyncd.requirements.file import MAX_FILE_BYTES, RequirementsFile, parse_requirements
from venvsyncd.requirements.pyproject import is_pyproject

_NOTHING_READ: Mapping[Path, bytes | None] = MappingProxyType({})


class Writes(NamedTuple):
    files: dict[Path, bytes]  # the files whose bytes change -> their new bytes
    summary: str  # what is written where: "+beta==1.0 -> requirements.txt; ~alpha 2.0 -> base.txt"
    outside: str | None = None  # why nothing is written: a change belongs in a file outside
    # what each file of `files` held when read (None: it did not exist), for the
    # compare-and-swap: the `.in` file is none of the files `FileSide` read
    expected: Mapping[Path, bytes | None] = _NOTHING_READ


class CompiledFrom(NamedTuple):
    """The `.in` file the top file was compiled from, as read, and what each installed
    package requires there (`observe.requires_map`)."""

    source: RequirementsFile
    requires: Mapping[str, tuple[str, ...]]


class LookedUp(NamedTuple):
    """What a write needs from outside the files and the venv, read before it: the `.in`
    file (`read_compiled_from`), in hash mode the new pins' hashes (`engine/hashing.py`;
    None: the files have no `--hash`), and for style "top" the packages that other installed
    packages require (`required_by_others`)."""

    compiled: CompiledFrom | None = None
    hashes: Hashes | None = None
    required: frozenset[str] | None = None  # style "top": what installed packages require


NO_WRITES = Writes({}, "")
NOTHING_LOOKED_UP = LookedUp()


def planned_writes(
    project: Project,
    env: EnvSide,
    file: FileSide | None,
    plan: Plan,
    looked: LookedUp = NOTHING_LOOKED_UP,
) -> Writes:
    """The writes `plan` makes of the requirements file(s) for the env as it is now; with
    `looked.compiled` (`read_compiled_from`), of the `.in` file too."""
    if project.settings.mode == "install" or not plan.touches_file:
        return NO_WRITES
    if file is not None and file.pyproject is not None:
        files, summary, why = pyproject_writes(project, env, file, file.pyproject, plan.edit)
        return Writes(files, summary, why, {p: file.data for p in files})
    if file is None and is_pyproject(project.requirements):
        return Writes({}, "", f"{project.requirements} does not exist: {NO_PYPROJECT}")
    if file is None or project.settings.style == "pip":
        frozen = env.frozen
        if looked.required is not None:  # style "top": a new file lists the top level only
            frozen = tuple(d for d in frozen if d.name not in looked.required)
        data = apply_pip_style(frozen, None if file is None else file.top)
        if file is not None and data == file.data:
            return NO_WRITES
        what = f"{len(env.frozen)} packages" if file is None else render_change(plan.edit)
        expected = {project.requirements: None if file is None else file.data}
        summary = f"{what} -> {project.requirements.name}"
        return Writes({project.requirements: data}, summary, expected=expected)
    writes = _preserve_writes(project, env, file, plan.edit, looked.hashes)
    if looked.compiled is None or writes.outside is not None:
        return writes
    top = _top_share(project, plan.edit, file)
    return _with_source(project, writes, env, top, looked.compiled)


def required_by_others(env: EnvSide, file: FileSide | None) -> frozenset[str]:
    """The installed packages another installed package requires (with the extras the file
    asks for): what style "top" leaves out of the file (pip-chill's rule)."""
    requires = requires_map(env, file.wanted if file else ())
    return frozenset(dep for name, deps in requires.items() for dep in deps if dep != name)


def top_level(delta: EnvDelta, required: frozenset[str]) -> EnvDelta:
    """`delta` with only the new packages no other installed package requires (style "top":
    `pip install flask` adds flask, not what flask brought). Moves and removals stay: a line
    already in the file is kept up to date whatever brought its package."""
    return replace(delta, added=tuple(d for d in delta.added if d.name not in required))


def read_compiled_from(
    project: Project, env: EnvSide, file: FileSide | None, plan: Plan
) -> CompiledFrom | None:
    """What `planned_writes` needs to add new packages to the `.in` file the top file was
    compiled from: None unless the plan adds packages to such a file (style "preserve") and
    that `.in` file is inside the project. Reads it, and the venv's dependencies."""
    settings = project.settings
    if file is None or settings.style == "pip" or settings.mode == "install":
        return None
    if not _top_share(project, plan.edit, file).added:
        return None
    path = compiled_from(file.top)
    if path is None or not inside(project.path, path) or file.bytes_of(path) is not None:
        return None
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError:  # no such file (any more): the top file alone is written
        return None
    if len(data) > MAX_FILE_BYTES:
        return None
    requires = requires_map(env, file.wanted)
    return CompiledFrom(parse_requirements(data, path), requires)


def _top_share(project: Project, delta: EnvDelta, file: FileSide) -> EnvDelta:
    return share(delta, file.top.source, _owners(file), _home(project))


def _home(project: Project) -> Callable[[str], Path]:
    """Where a new package goes: the first dev file for a dev tool, else the main file."""
    dev = project.dev_files[0] if project.dev_files else None
    return home_of(project.requirements, dev, project.settings.dev)


def _with_source(
    project: Project, writes: Writes, env: EnvSide, top: EnvDelta, compiled: CompiledFrom
) -> Writes:
    """`writes` and the packages of `top` installed at top level added to the `.in` file
    (one it names already, however it says so, is left as the user wrote it)."""
    source = compiled.source
    required = {dep for name, deps in compiled.requires.items() for dep in deps if dep != name}
    required |= {line.name for line in source.requirements() if line.name is not None}
    fresh = tuple(_as_source_line(d) for d in top.added if d.name not in required)
    if not fresh or not inside(project.path, source.source):
        return writes
    data = apply_preserve(source, EnvDelta(added=fresh), env.marker_env).to_bytes()
    if data == source.to_bytes():
        return writes
    added = " ".join(f"+{d.raw_name}" for d in fresh)
    summary = "; ".join(
        filter(None, (writes.summary, f"{added} -> {_shown(project, source.source)}"))
    )
    return writes._replace(
        files={**writes.files, source.source: data},
        summary=summary,
        expected={**writes.expected, source.source: source.to_bytes()},
    )


def _as_source_line(dist: FrozenDist) -> FrozenDist:
    """How a `.in` file names a package: by name alone (pip-compile pins it, and keeps the
    installed version while the output file has it), or by its freeze lines when installed
    from a URL, a path or as an editable, which a name alone would not find."""
    if dist.url is not None or dist.editable:
        return dist
    return dist._replace(lines=(dist.raw_name,))


def _preserve_writes(
    project: Project, env: EnvSide, file: FileSide, delta: EnvDelta, hashes: Hashes | None
) -> Writes:
    owners = _owners(file)
    home = _home(project)
    files: dict[Path, bytes] = {}
    expected: dict[Path, bytes | None] = {}
    parts: list[str] = []
    outside: list[str] = []
    for req in (file.top, *file.includes, *_new_dev_files(project, file)):
        part = share(delta, req.source, owners, home)
        if part.empty:
            continue
        name = _shown(project, req.source)
        if not inside(project.path, req.source):  # an include, or a file linked, outside
            outside.append(f"{render_change(part)} belongs in {_described(req.source)}")
            continue
        data = apply_preserve(req, part, env.marker_env, hashes).to_bytes()
        if data != req.to_bytes() or file.bytes_of(req.source) is None:
            files[req.source] = data
            expected[req.source] = file.bytes_of(req.source)  # None: a new dev file
            parts.append(f"{render_change(part)} -> {name}")
    if outside:
        why = "; ".join(outside)
        return Writes(
            {},
            "",
            f"{why}, outside the project folder, which venvsyncd never writes: nothing was "
            "written. Edit that file yourself, or run `venvsyncd sync --from file` to make "
            "the venv follow the files",
        )
    return Writes(files, "; ".join(parts), expected=expected)


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


def _new_dev_files(project: Project, file: FileSide) -> tuple[RequirementsFile, ...]:
    """The first dev file, empty, when it does not exist yet: a dev tool's line makes it."""
    if not project.dev_files or project.dev_files[0].exists():
        return ()
    return (parse_requirements(b"", project.dev_files[0]),)


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

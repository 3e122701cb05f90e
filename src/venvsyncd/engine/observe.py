"""Read both sides of a project as they are now: the venv's dists and the requirements file."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from venvsyncd.env.dists import FrozenDist
from venvsyncd.env.venvs import Venv, marker_environment
from venvsyncd.errors import ProjectError
from venvsyncd.requirements.encoding import UTF8, encode_kept
from venvsyncd.requirements.file import RequirementsFile, load_requirements, parse_requirements
from venvsyncd.requirements.pyproject import (
    Pyproject,
    is_pyproject,
    parse_pyproject,
    read_pyproject,
)
from venvsyncd.requirements.wanted import Wanted, wanted_from

if TYPE_CHECKING:
    from venvsyncd.env.discover import Found


@dataclass(frozen=True)
class EnvSide:
    venv: Venv
    frozen: tuple[FrozenDist, ...]
    installed: dict[str, FrozenDist]
    marker_env: dict[str, str]
    # site-packages' mtime taken before it was read (`insync.settled_mark`; None: it had
    # just changed), for the in-sync record: a change landing after the read moves it
    site_mark: str | None = None
    found: Found | None = None  # the look at the venv's path the read made, for deps to share


@dataclass(frozen=True)
class FileSide:
    top: RequirementsFile
    includes: tuple[RequirementsFile, ...]
    data: bytes  # the top file's bytes as read
    texts: dict[str, str]  # path -> decoded text (a BOM as U+FEFF), the top file and includes
    wanted: tuple[Wanted, ...]
    raw: dict[str, bytes] = field(default_factory=dict)  # path -> the bytes read, likewise
    # A pyproject.toml project's file (then `top` is its main array, `includes` its groups,
    # each modelled as a requirements file: `requirements/pyproject.py`)
    pyproject: Pyproject | None = None

    def install_options(self) -> list[str]:
        """The files' own pip options, and their constraint files as `-c PATH`."""
        argv = self.top.options()
        for include in self.includes:
            argv += ["-c", str(include.source)] if include.constraint else include.options()
        return argv

    @property
    def blank(self) -> bool:
        """Is the top file empty, or whitespace only?"""
        return not self.top.text.lstrip("\ufeff").strip()

    def bytes_of(self, path: Path) -> bytes | None:
        """The bytes read of `path`, the top file or an include (None: not one of them)."""
        return self.raw.get(str(path))

    def bytes_for(self, path: str, text: str) -> bytes:
        """A text kept for `path` (a snapshot's) as bytes: in the encoding `path` has now when
        the text fits it (BOM or none alike), else UTF-8."""
        found = (r.encoding for r in (self.top, *self.includes) if str(r.source) == path)
        return encode_kept(text, next(found, UTF8))


def _file_side(top: RequirementsFile, includes: tuple[RequirementsFile, ...]) -> FileSide:
    wanted = list(wanted_from(top))
    for include in includes:
        if not include.constraint:
            wanted += wanted_from(include)
    texts = {str(r.source): r.text for r in (top, *includes)}
    raw = {str(r.source): r.to_bytes() for r in (top, *includes)}
    return FileSide(top, includes, top.to_bytes(), texts, tuple(wanted), raw)


def with_files(
    file: FileSide, written: Mapping[Path, bytes], made: Iterable[Path] = ()
) -> FileSide:
    """The same files, with those venvsyncd just wrote holding the bytes it wrote; `made`:
    files it created (a new dev file), read from then on like the others."""

    if file.pyproject is not None:
        data = written.get(file.pyproject.source)
        return file if data is None else _pyproject_side(parse_pyproject(data, file.top.source))

    def now(req: RequirementsFile) -> RequirementsFile:
        data = written.get(req.source)
        if data is None:
            return req
        now = parse_requirements(data, req.source)  # the model kept for the bytes, if any
        return replace(now, constraint=True) if req.constraint else now

    new = tuple(parse_requirements(written[path], path) for path in made if path in written)
    return _file_side(now(file.top), (*(now(i) for i in file.includes), *new))


def read_env(venv: Venv) -> EnvSide:
    from venvsyncd.env.discover import discover
    from venvsyncd.env.freeze import freeze, installed
    from venvsyncd.system.insync import settled_mark

    mark = settled_mark(str(venv.site_packages))
    found = discover(venv)
    every = installed(venv, found)
    frozen = freeze(venv, every)
    by_name = {d.name: d for d in every}
    return EnvSide(venv, frozen, by_name, marker_environment(venv), mark, found)


def read_file(path: Path, dev_files: Sequence[Path] = ()) -> FileSide | None:
    """The file and its includes, then the dev files that exist and theirs (as includes: what
    they ask for is wanted too); None when the file does not exist. Unparsable lines are
    errors."""
    if not path.exists():
        return None
    if is_pyproject(path):
        return _pyproject_side(read_pyproject(path))
    top, includes = _load(path)
    seen = {(_real(r.source), r.constraint) for r in (top, *includes)}
    for dev in dev_files:
        if not dev.exists() or (_real(dev), False) in seen:
            continue  # not there yet, or an include already (`-r requirements-dev.txt`)
        first, more = _load(dev)
        for req in (first, *more):  # what a `-r requirements.txt` in it names is read already
            if (_real(req.source), req.constraint) not in seen:
                includes.append(req)
                seen.add((_real(req.source), req.constraint))
    for req in (top, *includes):
        _refuse(req, req.problems(), "", "fix that line; venvsyncd acts only on files pip can read")
    return _file_side(top, tuple(includes))


def _pyproject_side(pyproject: Pyproject) -> FileSide:
    """A pyproject.toml: its arrays as the planner reads files, its bytes as a write sees."""
    top, groups = pyproject.as_files()
    wanted = [w for req in (top, *groups) for w in wanted_from(req)]
    key = str(pyproject.source)
    texts, raw = {key: pyproject.text}, {key: pyproject.data}
    return FileSide(top, groups, pyproject.data, texts, tuple(wanted), raw, pyproject)


def _load(path: Path) -> tuple[RequirementsFile, list[RequirementsFile]]:
    if not path.is_file():
        raise ProjectError(
            f"{path} is not a file", hint="replace it with a requirements file or remove it"
        )
    return load_requirements(path)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def check_paths(file: FileSide) -> None:
    """Local paths pip would refuse as the disk is now (`RequirementsFile.path_problems`): a
    line that is no requirement and no existing path (`-r /etc/passwd`), a folder that is no
    project. The file is refused before anything of it reaches an installer; the line is not
    quoted (it may be a secret: `-r ~/.netrc`)."""
    for req in (file.top, *file.includes):
        hint = "fix that line, or the -r/-c line that includes this file"
        _refuse(req, req.path_problems(), "; nothing of this file was installed", hint)


def _refuse(req: RequirementsFile, problems: list[tuple[int, str]], tail: str, hint: str) -> None:
    """The first of `problems` (line number, pip's reason) as the file's one error."""
    if problems:
        lineno, why = problems[0]
        raise ProjectError(f"{req.source} line {lineno}: {why}{tail}", hint=hint)


def requires_map(env: EnvSide, wanted: Iterable[Wanted] = ()) -> dict[str, tuple[str, ...]]:
    """Installed name -> canonical names of what it requires in the venv, with the extras
    the file's lines ask for (`wanted`) and those installed packages ask of each other."""
    from venvsyncd.env.deps import read_dependencies

    extras = {w.name: w.extras for w in wanted if w.name is not None and w.extras}
    return read_dependencies(env.venv, env.marker_env, env.found).requires_map(extras)


def unchanged(file: FileSide | None, requirements: Path) -> bool:
    """Do the files still hold what the round read (re-read right before acting)?"""
    if file is None:
        return not requirements.exists()
    try:
        return all(Path(p).read_bytes() == data for p, data in file.raw.items())
    except OSError:
        return False

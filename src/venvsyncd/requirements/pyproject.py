"""pyproject.toml as the requirements file: `[project.dependencies]` and the PEP 735
`[dependency-groups]`, read (tomllib) and checked. Writes are `pyproject_edit.py`'s.

Each dependency array is modelled as a requirements file of its entries, one per line, so that
the planner reads it as it reads any file; the whole pyproject's bytes are what a write
compares and replaces. A group's `{include-group = "..."}` entries are followed when the
group's packages are counted as wanted, and are never edited.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from venvsyncd.errors import ProjectError
from venvsyncd.requirements.file import MAX_FILE_BYTES, RequirementsFile, parse_text

PYPROJECT = "pyproject.toml"
MAIN = "project.dependencies"  # the key of the main array; the groups are keyed by their name
DEV_GROUP = "dev"  # the group a dev tool goes to when the file has none yet
_HINT = "fix pyproject.toml; venvsyncd edits only a pyproject that pip and uv can read"


def is_pyproject(path: Path) -> bool:
    return path.name == PYPROJECT


@dataclass(frozen=True)
class Pyproject:
    """A pyproject.toml as read: its bytes, and the requirement strings of each array."""

    source: Path
    data: bytes
    text: str  # decoded; a BOM as U+FEFF
    has_project: bool  # a [project] table (new main dependencies need one)
    arrays: Mapping[str, tuple[str, ...]]  # MAIN, then each group's name as written
    includes: Mapping[str, tuple[str, ...]]  # group -> the groups it includes, as written
    name: str | None = None  # the project's own name, canonical (`pip install -e .` installs it)

    def dev_group(self) -> str:
        """The group a new dev tool goes to: `dev`, else the first group, else a new `dev`."""
        groups = [key for key in self.arrays if key != MAIN]
        named = [g for g in groups if _group_key(g) == DEV_GROUP]
        return (named or groups or [DEV_GROUP])[0]

    def as_files(self) -> tuple[RequirementsFile, tuple[RequirementsFile, ...]]:
        """The main array, and each group with the groups it includes, as requirements
        files of their entries (the planner's view; see the module docstring)."""
        main = _as_file(self.arrays.get(MAIN, ()), self.source)
        groups = tuple(
            _as_file(self.arrays[key], self.source) for key in self.arrays if key != MAIN
        )
        return main, groups


def _as_file(entries: tuple[str, ...], source: Path) -> RequirementsFile:
    return parse_text("".join(entry + "\n" for entry in entries), source)


def _group_key(name: str) -> str:
    """A group name as PEP 735 compares them (normalized like a package name)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pyproject(data: bytes, source: Path) -> Pyproject:
    """Model `data`, the bytes of `source`; anything pip or uv would refuse is a `ProjectError`
    naming the key."""
    if len(data) > MAX_FILE_BYTES:
        raise ProjectError(f"{source} is larger than {MAX_FILE_BYTES} bytes", hint=_HINT)
    try:
        text = data.decode("utf-8")
        document = tomllib.loads(text.removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{source} is not UTF-8 (byte {exc.start})", hint=_HINT) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{source} is not valid TOML: {exc}", hint=_HINT) from None
    arrays: dict[str, tuple[str, ...]] = {}
    project = document.get("project")
    if project is not None and not isinstance(project, dict):
        raise ProjectError(f"{source}: `project` must be a table", hint=_HINT)
    if isinstance(project, dict):
        if "dependencies" in project.get("dynamic", ()):
            raise ProjectError(
                f"{source}: [project] lists `dependencies` as dynamic, so they are not in this "
                "file",
                hint="keep requirements.txt as the project's file instead, or list them here",
            )
        arrays[MAIN] = _strings(project.get("dependencies", []), f"{source}: {MAIN}")
    includes = _groups(document.get("dependency-groups", {}), source, arrays)
    name = project.get("name") if isinstance(project, dict) else None
    own = canonicalize_name(name) if isinstance(name, str) else None
    return Pyproject(source, data, text, isinstance(project, dict), arrays, includes, own)


def _groups(
    table: object, source: Path, arrays: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise ProjectError(f"{source}: `dependency-groups` must be a table", hint=_HINT)
    includes: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for name, value in table.items():
        where = f"{source}: dependency-groups.{name}"
        if _group_key(name) in seen:
            raise ProjectError(f"{where} repeats group {seen[_group_key(name)]!r}", hint=_HINT)
        seen[_group_key(name)] = name
        if not isinstance(value, list):
            raise ProjectError(f"{where} must be an array", hint=_HINT)
        strings = [v for v in value if isinstance(v, str)]
        tables = [v for v in value if not isinstance(v, str)]
        arrays[name] = _strings(strings, where)
        includes[name] = tuple(_include(v, where) for v in tables)
    for name, included in includes.items():
        for other in included:
            if _group_key(other) not in seen:
                raise ProjectError(
                    f"{source}: dependency-groups.{name} includes group {other!r}, which the "
                    "file does not have",
                    hint=_HINT,
                )
    _no_cycle(includes, seen, source)
    return includes


def _include(value: object, where: str) -> str:
    if isinstance(value, dict) and set(value) == {"include-group"}:
        target = value["include-group"]
        if isinstance(target, str):
            return target
    raise ProjectError(
        f'{where} holds {value!r}: an entry is a requirement string or {{include-group = "NAME"}}',
        hint=_HINT,
    )


def _no_cycle(
    includes: Mapping[str, tuple[str, ...]], names: Mapping[str, str], source: Path
) -> None:
    by_key = {_group_key(name): tuple(_group_key(i) for i in inc) for name, inc in includes.items()}

    def visit(key: str, stack: tuple[str, ...]) -> None:
        if key in stack:
            cycle = " -> ".join(names[k] for k in (*stack[stack.index(key) :], key))
            raise ProjectError(
                f"{source}: dependency-groups include each other: {cycle}", hint=_HINT
            )
        for included in by_key.get(key, ()):
            visit(included, (*stack, key))

    for key in by_key:
        visit(key, ())


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ProjectError(f"{where} must be an array of requirement strings", hint=_HINT)
    for index, entry in enumerate(value):
        if not isinstance(entry, str):
            raise ProjectError(f"{where}[{index}] is not a string: {entry!r}", hint=_HINT)
        try:
            Requirement(entry)
        except InvalidRequirement as exc:
            raise ProjectError(
                f"{where}[{index}] = {entry!r} is not a PEP 508 requirement: {exc}", hint=_HINT
            ) from None
        if "\n" in entry or "\r" in entry:
            raise ProjectError(f"{where}[{index}] spans lines", hint=_HINT)
    return tuple(value)


def entry_name(entry: str) -> str:
    """The canonical name of a (checked) requirement string."""
    return canonicalize_name(Requirement(entry).name)


def read_pyproject(path: Path) -> Pyproject:
    """Read and model the pyproject.toml at `path`."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ProjectError(f"{path} cannot be read ({exc.strerror})", hint=_HINT) from None
    return parse_pyproject(data, path)

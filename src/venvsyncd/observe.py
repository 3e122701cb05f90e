"""Read both sides of a project as they are now: the venv's dists and the requirements file."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from venvsyncd.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.reqfile import RequirementsFile, load_requirements, parse_requirements
from venvsyncd.venvs import Venv, marker_environment
from venvsyncd.wanted import Wanted, wanted_from


@dataclass(frozen=True)
class EnvSide:
    venv: Venv
    frozen: tuple[FrozenDist, ...]
    installed: dict[str, FrozenDist]
    marker_env: dict[str, str]


@dataclass(frozen=True)
class FileSide:
    top: RequirementsFile
    includes: tuple[RequirementsFile, ...]
    data: bytes  # the top file's bytes as read
    texts: dict[str, str]  # path -> text, for the top file and every include
    wanted: tuple[Wanted, ...]

    def install_options(self) -> list[str]:
        """The files' own pip options, and their constraint files as `-c PATH`."""
        argv = self.top.options()
        for include in self.includes:
            argv += ["-c", str(include.source)] if include.constraint else include.options()
        return argv


def with_top(file: FileSide, data: bytes) -> FileSide:
    """The same files, with the top one replaced by `data` (what venvsyncd just wrote)."""
    top = parse_requirements(data, file.top.source)
    wanted = list(wanted_from(top))
    for include in file.includes:
        if not include.constraint:
            wanted += wanted_from(include)
    texts = {**file.texts, str(top.source): data.decode("utf-8")}
    return FileSide(top, file.includes, data, texts, tuple(wanted))


def read_env(venv: Venv) -> EnvSide:
    from venvsyncd.freeze import freeze, installed

    every = installed(venv)
    frozen = freeze(venv, every)
    return EnvSide(venv, frozen, {d.name: d for d in every}, marker_environment(venv))


def read_file(path: Path) -> FileSide | None:
    """The file and its includes; None when it does not exist. Unparsable lines are errors."""
    if not path.exists():
        return None
    if not path.is_file():
        raise ProjectError(
            f"{path} is not a file", hint="replace it with a requirements file or remove it"
        )
    top, includes = load_requirements(path)
    for req in (top, *includes):
        problems = req.problems()
        if problems:
            lineno, message = problems[0]
            raise ProjectError(
                f"{req.source} line {lineno}: {message}",
                hint="fix that line; venvsyncd acts only on files pip can read",
            )
    wanted = list(wanted_from(top))
    for include in includes:
        if not include.constraint:
            wanted += wanted_from(include)
    texts = {str(r.source): r.to_bytes().decode("utf-8") for r in (top, *includes)}
    return FileSide(top, tuple(includes), top.to_bytes(), texts, tuple(wanted))


def requires_map(venv: Venv, marker_env: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Installed name -> canonical names of what it requires in this venv (extras included)."""
    found: dict[str, tuple[str, ...]] = {}
    for dist in importlib.metadata.distributions(path=[str(venv.site_packages)]):
        name = canonicalize_name(dist.metadata["Name"] or "")
        if name in found:
            continue
        needs = []
        for text in dist.requires or ():
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is None or _any_extra_applies(req, marker_env):
                needs.append(canonicalize_name(req.name))
        found[name] = tuple(needs)
    return found


def _any_extra_applies(req: Requirement, marker_env: Mapping[str, str]) -> bool:
    """A dependency counts when its marker holds for the venv, with or without an extra."""
    assert req.marker is not None
    env = dict(marker_env)
    if req.marker.evaluate({**env, "extra": ""}):
        return True
    return "extra" in str(req.marker) and req.marker.evaluate({**env, "extra": _extra_of(req)})


def _extra_of(req: Requirement) -> str:
    text = str(req.marker)
    start = text.find("extra ==")
    return text[start + 8 :].strip().split()[0].strip("'\"") if start >= 0 else ""

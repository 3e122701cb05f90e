"""Which file (or pyproject array) an env change belongs in. Pure but for `inside`.

A package a file names is that file's to edit; a new one goes to its home: the first dev
file when one of the `dev` globs matches its name, else the main file.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from venvsyncd.env.dists import FrozenDist
from venvsyncd.requirements.edit import EnvDelta

Where = TypeVar("Where")  # a file's path, or a pyproject array's key


def is_dev_tool(name: str, dev: Iterable[str]) -> bool:
    """Does one of the `dev` globs (`pytest`, `types-*`) match the canonical `name`?"""
    return any(fnmatch.fnmatchcase(name, _pattern(glob)) for glob in dev)


def home_of(main: Where, dev_home: Where | None, dev: Iterable[str]) -> Callable[[str], Where]:
    """Where a new package goes: `dev_home` for a dev tool (when there is one), else `main`."""
    globs = tuple(dev)

    def home(name: str) -> Where:
        return dev_home if dev_home is not None and is_dev_tool(name, globs) else main

    return home


def _pattern(glob: str) -> str:
    """A `dev` glob as canonical names are written (`Flake8_*` -> `flake8-*`)."""
    return re.sub(r"[-_.]+", "-", glob).lower()


def share(
    delta: EnvDelta, me: Where, owners: Mapping[str, Where], home: Callable[[str], Where]
) -> EnvDelta:
    """The part of `delta` that is `me`'s to write: what it names (`owners`: canonical name
    -> the first file naming it), and the new packages whose `home` it is."""

    def mine(name: str) -> bool:
        owner = owners.get(name)
        return owner == me or (owner is None and home(name) == me)

    changed = tuple(d for d in delta.changed if owners.get(d.name) == me)
    return replace(
        delta,
        added=tuple(d for d in delta.added if mine(d.name)),
        removed=tuple(n for n in delta.removed if owners.get(n) == me),
        changed=changed,
        previous=_previous(delta.previous, changed),
    )


def _previous(
    previous: Iterable[FrozenDist], changed: tuple[FrozenDist, ...]
) -> tuple[FrozenDist, ...]:
    names = {d.name for d in changed}
    return tuple(d for d in previous if d.name in names)


def inside(folder: Path, path: Path) -> bool:
    """Is `path`, links resolved, inside `folder`?"""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))

"""Where an env change is written in a pyproject.toml project: which array of the file
(`[project.dependencies]` or a `[dependency-groups]` group) names each package, and the
file's new bytes (`requirements/pyproject_edit.py`). Pure.

A package an array names is edited there (the main array first, then the groups in the
file's order); a new one goes to `[project.dependencies]`, or, for a dev tool (the `dev`
globs), to the `dev` group (else the file's first group, else a new `dev` group). The style
is always "top": the caller leaves out what other installed packages require.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from venvsyncd.engine.observe import EnvSide, FileSide
from venvsyncd.engine.routing import home_of, inside, share
from venvsyncd.project import Project
from venvsyncd.requirements.edit import EnvDelta, render_change
from venvsyncd.requirements.pyproject import MAIN, Pyproject, entry_name
from venvsyncd.requirements.pyproject_edit import edit_pyproject

NO_PYPROJECT = (
    "nothing was written. It needs a [project] table (name and version, as `uv init` "
    "writes); venvsyncd then keeps its dependencies"
)
Planned = tuple[dict[Path, bytes], str, str | None]  # files, summary, why nothing is written


def pyproject_writes(
    project: Project, env: EnvSide, file: FileSide, pyproject: Pyproject, delta: EnvDelta
) -> Planned:
    """The pyproject's new bytes for `delta`, what they change, or why nothing is written.
    The project itself (`pip install -e .`) is never its own dependency."""
    path = pyproject.source
    if pyproject.name is not None:
        delta = replace(delta, added=tuple(d for d in delta.added if d.name != pyproject.name))
    owners: dict[str, str] = {}
    for key, entries in pyproject.arrays.items():
        for entry in entries:
            owners.setdefault(entry_name(entry), key)
    home: Callable[[str], str] = home_of(MAIN, pyproject.dev_group(), project.settings.dev)
    keys = dict.fromkeys((MAIN, *pyproject.arrays, pyproject.dev_group()))
    shares = {key: share(delta, key, owners, home) for key in keys}
    shares = {key: part for key, part in shares.items() if not part.empty}
    if not shares:
        return {}, "", None
    if not inside(project.path, path):
        why = f"{render_change(delta)} belongs in {path}, a link to a file outside the project"
        return {}, "", why + " folder, which venvsyncd never writes: nothing was written"
    if MAIN in shares and not pyproject.has_project and shares[MAIN].added:
        names = ", ".join(d.raw_name for d in shares[MAIN].added)
        return {}, "", f"{path} has no [project] table for {names}: {NO_PYPROJECT}"
    data = edit_pyproject(pyproject, shares, project.settings.pin, env.marker_env)
    if data == file.data:
        return {}, "", None
    summary = "; ".join(f"{render_change(part)} -> {_shown(key)}" for key, part in shares.items())
    return {path: data}, summary, None


def _shown(key: str) -> str:
    """An array as summaries name it."""
    return f"pyproject.toml [{key}]" if key == MAIN else f"pyproject.toml [dependency-groups] {key}"

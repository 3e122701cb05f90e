"""The hashes a hash-pinned file's new and moved pins get, looked up before the write.

pip's hash-checking mode is all or nothing: once one line of the files has a `--hash`, every
requirement must be pinned `==` with hashes, dependencies included. So when the env changes
under such files, each added package (a dependency too: it gets its own line) and each moved
pin of a named package gets the sha256 of every file of its release, from the indexes pip
would use (`env/index.py`): the files' own `--index-url`/`--extra-index-url`/`--find-links`
over the installer's configuration (`pip config list`, or uv's variables). What the lookup
cannot answer stops the write: an index out of reach is retried; a package installed from a
URL or a folder, or a release the indexes do not list, is an error naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from venvsyncd.engine.observe import EnvSide, FileSide
from venvsyncd.engine.plan import Plan
from venvsyncd.env.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.project import Project

if TYPE_CHECKING:  # env.index (urllib, json, threads) is imported only when hashes are looked up
    from venvsyncd.env.index import Sources

Hashes = Mapping[str, tuple[str, ...]]  # canonical name -> "sha256:<hex>" of its release's files
_PIP_VARIABLES = {
    "PIP_INDEX_URL": "index-url",
    "PIP_EXTRA_INDEX_URL": "extra-index-url",
    "PIP_FIND_LINKS": "find-links",
    "PIP_NO_INDEX": "no-index",
}


def hash_mode(file: FileSide) -> bool:
    """Do the files put pip in hash-checking mode (a `--hash` on any line of any of them)?"""
    return any(req.has_hashes() for req in (file.top, *file.includes))


def hashes_for(
    project: Project, env: EnvSide, file: FileSide | None, plan: Plan, installer: str
) -> Hashes | None:
    """The hashes of the releases `plan`'s write pins anew, or None when the files are not in
    hash-checking mode (or the plan writes no requirements file)."""
    settings = project.settings
    if file is None or settings.style == "pip" or settings.mode == "install":
        return None
    if not plan.touches_file or not hash_mode(file):
        return None
    named = {line.name for req in (file.top, *file.includes) for line in req.requirements()}
    pinned = [*plan.edit.added, *(d for d in plan.edit.changed if d.name in named)]
    if not pinned:
        return {}
    for dist in pinned:
        _refuse_unhashable(dist, project)
    from venvsyncd.env.index import releases_hashes, sources_from

    sources = sources_from(file.install_options(), _installer_config(env, installer))
    found = releases_hashes(sources, ((d.raw_name, d.version) for d in pinned))
    for dist in pinned:
        if not found[(dist.raw_name, dist.version)]:
            raise _not_listed(dist, sources, project)
    return {dist.name: found[(dist.raw_name, dist.version)] for dist in pinned}


def _refuse_unhashable(dist: FrozenDist, project: Project) -> None:
    if dist.url is None and not dist.editable:
        return
    where = "as an editable" if dist.editable else f"from {dist.url}"
    raise ProjectError(
        f"{dist.raw_name} {dist.version} was installed {where}, but "
        f"{project.requirements.name} is hash-pinned and venvsyncd takes hashes only from "
        "a package index; the file was not written",
        hint=f"add its line with its --hash yourself, or install {dist.raw_name} from the "
        "index, then run `venvsyncd sync`",
    )


def _not_listed(dist: FrozenDist, sources: Sources, project: Project) -> ProjectError:
    looked = ", ".join((*sources.indexes, *sources.find_links)) or "no index (--no-index)"
    return ProjectError(
        f"{dist.raw_name}=={dist.version} is installed, but {looked} list no file of that "
        f"release, so {project.requirements.name} (hash-pinned) cannot get its hashes; the "
        "file was not written",
        hint=f"install a version the index has (pip install {dist.raw_name}==VERSION), or "
        "add the line with its --hash yourself",
    )


def _installer_config(env: EnvSide, setting: str) -> dict[str, str]:
    """The index settings of the installer that installs from the files: pip's own
    configuration (files and `PIP_*` variables) as `pip config list` shows it, or uv's."""
    from venvsyncd.env.commands import CommandError, run_command
    from venvsyncd.env.index import pip_config, uv_config
    from venvsyncd.env.installer import choose_installer

    if choose_installer(setting).kind == "uv":
        return uv_config()
    try:
        listed = run_command([env.venv.python, "-m", "pip", "config", "list"], timeout=60)
    except CommandError:  # a venv without pip: its variables at least
        return {key: os.environ[name] for name, key in _PIP_VARIABLES.items() if name in os.environ}
    return pip_config(listed)

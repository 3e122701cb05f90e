"""A configured (or ad hoc) project resolved to real paths: its folder, venv and file."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from venvsyncd.config import Config, ProjectEntry, ProjectSettings
from venvsyncd.env.venvs import VENV_CANDIDATES, Venv, find_venv, load_venv
from venvsyncd.errors import ProjectError

DEFAULT_VENV = ".venv"
DEFAULT_REQUIREMENTS = "requirements.txt"


@dataclass(frozen=True)
class Project:
    path: Path
    venv_root: Path  # the venv found or configured, else where one would be created
    requirements: Path
    settings: ProjectSettings
    configured: bool
    dev_files: tuple[Path, ...] = ()  # the requirements files after the first (`dev`)

    @property
    def files(self) -> tuple[Path, ...]:
        """The requirements files: the main one, then the dev files."""
        return (self.requirements, *self.dev_files)

    def venv_exists(self) -> bool:
        return (self.venv_root / "pyvenv.cfg").is_file()

    def load_venv(self) -> Venv:
        """The project's venv; a missing one is a `ProjectError` saying how to get one."""
        if not self.venv_exists():
            raise ProjectError(
                f"{self.path}: no virtual environment (looked for {', '.join(_candidates(self))})",
                hint=f"create one with: python3 -m venv {self.venv_root}",
            )
        return load_venv(self.venv_root)

    def python_version(self) -> str | None:
        if not self.venv_exists():
            return None
        try:
            return load_venv(self.venv_root).version_text
        except ProjectError:
            return None

    def describe(self) -> dict[str, Any]:
        """The contract's project keys, without the live ones (for `list --json`)."""
        return {
            "path": str(self.path),
            "venv": str(self.venv_root),
            "requirements": str(self.requirements),
            **({"dev_requirements": [str(f) for f in self.dev_files]} if self.dev_files else {}),
            "python": self.python_version(),
            "mode": self.settings.mode,
            "style": self.settings.style,
        }


def suggested_venv(folder: Path) -> str:
    """The name for a venv venvsyncd makes in `folder`: the one its .gitignore ignores (the
    name its people use), else `.venv`."""
    try:
        ignored = {line.strip().strip("/") for line in (folder / ".gitignore").read_text().split()}
    except (OSError, UnicodeDecodeError):
        return DEFAULT_VENV
    return next((name for name in VENV_CANDIDATES if name in ignored), DEFAULT_VENV)


def venvs_present(folder: Path) -> list[str]:
    """The venv folders (`.venv`, `venv`, `env` with a pyvenv.cfg) in `folder`."""
    return [name for name in VENV_CANDIDATES if (folder / name / "pyvenv.cfg").is_file()]


def venvs_note(project: Project) -> str | None:
    """Which venv is followed, when the folder holds more than one (for `status`)."""
    found = venvs_present(project.path)
    if len(found) < 2:
        return None
    return (
        f"{len(found)} venvs here ({', '.join(found)}); venvsyncd follows {project.venv_root.name}"
    )


def _candidates(project: Project) -> list[str]:
    if project.configured and project.venv_root.name not in (".venv", "venv", "env"):
        return [str(project.venv_root)]
    return [".venv", "venv", "env"]


def resolve(entry: ProjectEntry, configured: bool = True) -> Project:
    venv = find_venv(entry.path, entry.venv)
    requirements = entry.path / Path(entry.requirements or DEFAULT_REQUIREMENTS).expanduser()
    settings = entry.settings
    if requirements.name == "pyproject.toml":  # it lists the top level only, whatever `style`
        settings = replace(settings, style="top")
    return Project(
        path=entry.path,
        venv_root=venv if venv is not None else entry.path / suggested_venv(entry.path),
        requirements=requirements,
        settings=settings,
        configured=configured,
        dev_files=tuple(entry.path / Path(f).expanduser() for f in entry.dev_files),
    )


def for_path(config: Config, path: Path) -> Project:
    """The configured project at `path`, else an ad hoc one with the config's defaults."""
    folder = Path(os.path.abspath(path.expanduser()))
    if not folder.is_dir():
        raise ProjectError(f"{folder}: no such folder", hint="give the path of a project folder")
    entry = config.find(folder)
    if entry is not None:
        return resolve(entry)
    adhoc = ProjectEntry(path=folder, venv=None, requirements=None, settings=config.defaults)
    return resolve(adhoc, configured=False)

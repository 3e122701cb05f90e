"""The coordinator's record of one watched project (mutable, touched by the coordinator
thread only; an action thread gets a copy)."""
# ruff: noqa: PTH119, PTH120  (event paths are strings; os.path on them is the cheap way)

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

from venvsyncd.config import ProjectEntry
from venvsyncd.env.venvs import VENV_CANDIDATES
from venvsyncd.project import Project
from venvsyncd.wire.status import IN_SYNC, PAUSED, PENDING, ProjectStatus


@dataclass
class Tracked:
    entry: ProjectEntry
    project: Project
    state: str = PENDING
    dirty: bool = True  # a change (or startup) not yet acted on
    last_event: float = 0.0  # monotonic time of the last change seen
    immediate: bool = False  # `sync` asked for it: no settle time
    paused: bool = False
    packages: int = 0
    python: str | None = None
    last_sync: str | None = None
    last_change: str | None = None
    message: str | None = None
    polled: str | None = None  # why this project is polled instead of watched
    seen: Hashable = None  # signatures of both sides when last acted on
    site_packages: Path | None = None
    venv_real: str = ""  # the venv's real path: one action at a time on it, whoever names it
    trigger: str = "startup"  # what made it dirty, for the log
    synced_at: float = 0.0  # wall-clock time of the last sync (what counts as "fresh" after)
    recheck_at: float = 0.0  # monotonic time before which a busy venv is not looked at again
    extra_files: frozenset[str] = field(default_factory=frozenset)  # included files
    broken: tuple[str, ...] = ()  # what `pip check` would report, as of the last sync
    orphans: tuple[str, ...] = ()  # installed, and nothing asks for them (engine/health.py)
    venvs_note: str | None = None  # more than one venv in the folder: which is followed
    # Project files written to and not yet closed (path -> monotonic time of the last write):
    # a writer may still be at work, so the file is not acted on.
    writing: dict[str, float] = field(default_factory=dict)
    # What an event seen while the project's action ran was (it is judged when the action
    # ends: our own install's echo, or a change made meanwhile).
    heard: str | None = None
    heard_venv: bool = False  # one of them was in site-packages: the venv is looked at again

    @property
    def key(self) -> str:
        return str(self.project.path)

    def folders(self) -> set[Path]:
        """What to watch: the requirements file's folder and the venv's site-packages."""
        wanted = {self.project.requirements.parent, self.project.path}
        wanted |= {f.parent for f in self.project.dev_files}
        wanted |= {Path(p).parent for p in self.extra_files}
        if self.site_packages is not None:
            wanted.add(self.site_packages)
        else:  # a venv being made (again): its pyvenv.cfg appearing is the sign it is there
            wanted |= {self.project.path / name for name in VENV_CANDIDATES}
        return {f for f in wanted if f.is_dir()}

    def is_file(self, path: str) -> bool:
        """Is `path` the requirements file, a dev file (there or not yet) or one of the
        files they include?"""
        project = self.project
        mine = path == str(project.requirements) or path in self.extra_files
        return mine or any(path == str(f) for f in project.dev_files)

    def note_write(self, src: str, dest: str | None, kind: str, at: float) -> None:
        """Follow writers of the project's files: written, then closed (or moved, deleted)."""
        if kind == "written" and self.is_file(src):
            self.writing[src] = at
        elif kind in ("closed", "gone", "moved-in"):
            self.writing.pop(src, None)
        if dest is not None:  # a finished file renamed into place
            self.writing.pop(dest, None)

    def is_venv_life(self, path: str) -> bool:
        """Is `path` a venv of the project or its site-packages (created, deleted, replaced)?"""
        if path in (str(self.project.venv_root), str(self.site_packages)):
            return True
        folder, name = os.path.split(path)
        if name == "pyvenv.cfg":
            folder, name = os.path.split(folder)
        return folder == str(self.project.path) and name in VENV_CANDIDATES

    def trigger_for(self, path: str) -> str:
        """What a change at `path` is, for the log."""
        if self.site_packages is not None and path.startswith(str(self.site_packages)):
            return "venv changed"
        if path == str(self.project.venv_root):
            return "venv created or removed"
        return "file changed"

    def in_venv(self, path: str) -> bool:
        """Is `path` the venv's site-packages or an entry in it?"""
        site = self.site_packages
        return site is not None and (os.path.dirname(path) == str(site) or path == str(site))

    def cares_about(self, path: str) -> bool:
        """Is a change at `path` one of this project's?"""
        project = self.project
        if self.in_venv(path):
            return True
        if self.is_file(path):
            return True
        if self.site_packages is None and os.path.basename(path) == "pyvenv.cfg":
            return self.is_venv_life(path)
        return os.path.dirname(path) == str(project.path) and os.path.basename(path) in (
            project.venv_root.name,
            project.requirements.name,
            *VENV_CANDIDATES,  # a venv made (again) under another usual name
        )

    def status(self) -> ProjectStatus:
        project = self.project
        message = self.message
        if self.polled and self.state == IN_SYNC:
            message = self.polled
        elif self.venvs_note and self.state == IN_SYNC:
            message = self.venvs_note
        return ProjectStatus(
            path=str(project.path),
            venv=str(project.venv_root),
            requirements=str(project.requirements),
            python=self.python,
            mode=project.settings.mode,
            style=project.settings.style,
            state=PAUSED if self.paused else self.state,
            packages=self.packages,
            last_sync=self.last_sync,
            last_change=self.last_change,
            message=message,
            broken=self.broken,
            orphans=self.orphans,
        )

"""Which code sources a project's files name, and which of them the user approved.

A source is anything that decides where code comes from: an index (`--index-url`,
`--extra-index-url`), `--find-links`, `--trusted-host`, a direct URL, VCS, editable or
local-path requirement, an `-r`/`-c` include outside the project folder, and the requirements
file itself when it is a symlink out of the project. The sources of the files when the
project was added (or first synced) are approved; a file change that brings another one
waits for `venvsyncd allow`, which approves it. A build of a package from source that the
daemon refused to run (pip `--only-binary :all:`, uv `--no-build`) is approved by name and
version the same way. Approvals live in the project's state folder (`ProjectStore`): nothing
in the project can widen them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from venvsyncd.engine.observe import FileSide
from venvsyncd.engine.outcome import SyncRequest
from venvsyncd.engine.plan import Plan
from venvsyncd.engine.snapshot import Snapshot, private_folder
from venvsyncd.env.commands import CommandError
from venvsyncd.errors import ProjectError
from venvsyncd.project import Project
from venvsyncd.requirements.file import RequirementsFile, parse_text
from venvsyncd.requirements.line import LineKind, is_url
from venvsyncd.requirements.wanted import Wanted
from venvsyncd.system.files import atomic_write
from venvsyncd.system.private import PRIVATE_FILE

APPROVALS_FORMAT = 1
_SOURCE_FLAGS = ("--index-url", "--extra-index-url", "--find-links", "--trusted-host")
_WHEEL = ".whl"


class Approvals(NamedTuple):
    sources: frozenset[str]  # normalized sources, as `file_sources` writes them
    builds: frozenset[str] = frozenset()  # "name==version" built from source with approval

    def to_bytes(self) -> bytes:
        document = {
            "format": APPROVALS_FORMAT,
            "sources": sorted(self.sources),
            "builds": sorted(self.builds),
        }
        return (json.dumps(document, indent=1) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Approvals | None:
        """The approvals stored, or None when the record is unreadable (then nothing counts
        as approved but what the snapshot's files name)."""
        try:
            document = json.loads(data.decode("utf-8"))
            if document.get("format") != APPROVALS_FORMAT:
                return None
            return cls(
                frozenset(map(str, document["sources"])), frozenset(map(str, document["builds"]))
            )
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None


def file_sources(project: Project, files: Iterable[RequirementsFile]) -> frozenset[str]:
    """The code sources `files` name, each as one normalized line."""
    found: set[str] = set()
    for req in files:
        found |= _option_sources(req)
        urls = [line.url for line in req.requirements() if line.url is not None]
        found |= {f"requirement {_where(req, url)}" for url in urls}
        if req.source != project.requirements and not _inside(project.path, req.source):
            found.add(f"include {os.path.realpath(req.source)}")
    if project.requirements.is_symlink() and not _inside(project.path, project.requirements):
        found.add(f"file {os.path.realpath(project.requirements)}")
    return frozenset(found)


def side_sources(project: Project, file: FileSide) -> frozenset[str]:
    return file_sources(project, (file.top, *file.includes))


def text_sources(project: Project, texts: dict[str, str]) -> frozenset[str]:
    """The sources of files as a snapshot kept them (path -> text)."""
    files = [parse_text(text, Path(path)) for path, text in texts.items()]
    return file_sources(project, files)


def _option_sources(req: RequirementsFile) -> set[str]:
    found = set()
    for line in req.lines:
        if line.kind is not LineKind.OPTION:
            continue
        for flag, value in line.options:
            if flag in _SOURCE_FLAGS and value is not None:
                found.add(f"{flag} {_where(req, value) if flag == '--find-links' else value}")
    return found


def _where(req: RequirementsFile, target: str) -> str:
    """A URL as written; a path made absolute from the file's folder."""
    if is_url(target):
        return target
    return os.path.normpath(req.source.parent / target)


def _inside(folder: Path, path: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def held_for_sources(project: Project, file: FileSide, approved: Approvals, plan: Plan) -> Plan:
    """`plan` held when it would change the env and the files name sources not approved (or
    every file change is to be approved: `trust = "none"`); else `plan` itself."""
    trust = project.settings.trust
    if plan.state != "act" or not (plan.install or plan.uninstall) or trust == "all":
        return plan
    target = f"venvsyncd allow {project.path}"
    if trust == "none":
        why = 'trust = "none": a change of the file is applied only once you approve it'
        return replace(plan, state="held", message=f"{why}; run `{target}` (`--show` first)")
    new = sorted(side_sources(project, file) - approved.sources)
    if not new:
        return plan
    listed = "; ".join(new[:5]) + (f" and {len(new) - 5} more" if len(new) > 5 else "")
    return replace(
        plan,
        state="held",
        message=f"the file names code sources not approved yet ({listed}), so nothing of the "
        f"change was installed. Run `{target} --show` to see them, then `{target}` to approve "
        "them and apply the change",
    )


def needs_build(wanted: Wanted) -> bool:
    """Does installing this line build code from source (a path, VCS or sdist URL)?"""
    if wanted.url is None and not wanted.editable:
        return False
    return wanted.editable or not (wanted.url or "").split("#")[0].endswith(_WHEEL)


def binary_only(install: Iterable[Wanted], approved: Approvals) -> bool:
    """May this unattended install take wheels only? Not when it installs what needs a build
    from an approved source, or a pin whose build was approved (`name==version`)."""
    return not any(needs_build(w) or build_key(w) in approved.builds for w in install)


def build_key(wanted: Wanted) -> str:
    """How an approved build is remembered: the line's name and specifier (`evilpkg==1.0`)."""
    return f"{wanted.name}{wanted.specifier}"


APPROVALS = "approved.json"


def approvals(
    project: Project, folder: Path, file: FileSide | None, snapshot: Snapshot | None, dry: bool
) -> Approvals:
    """What the user approved for the project. The first time (no record yet): the sources
    of the files as the snapshot last saw them agree with the venv, else (a first sync, the
    project just added) those of the files now; recorded unless `dry`."""
    try:
        stored = Approvals.from_bytes((folder / APPROVALS).read_bytes())
    except FileNotFoundError:
        stored = None
    if stored is not None:
        return stored
    if snapshot is not None:
        first = Approvals(text_sources(project, snapshot.files))
    else:
        first = Approvals(side_sources(project, file) if file is not None else frozenset())
    if not dry:
        save_approvals(folder, first)
    return first


def save_approvals(folder: Path, approved: Approvals) -> None:
    private_folder(folder)
    atomic_write(folder / APPROVALS, approved.to_bytes(), mode=PRIVATE_FILE)


def approve(project: Project, folder: Path, file: FileSide, before: Approvals) -> Approvals:
    """`venvsyncd allow`: the files' sources now, and builds of their pins, approved too."""
    builds = {build_key(w) for w in file.wanted if w.name and str(w.specifier).startswith("==")}
    approved = Approvals(before.sources | side_sources(project, file), before.builds | builds)
    save_approvals(folder, approved)
    return approved


def unapproved(project: Project, folder: Path, file: FileSide) -> list[str]:
    """The sources the files name that are not approved yet (for `allow --show`)."""
    return sorted(
        side_sources(project, file) - approvals(project, folder, file, None, True).sources
    )


def wheels_only_failure(project: Project, plan: Plan, exc: CommandError) -> ProjectError:
    """An unattended install that failed with wheels only: perhaps it needs a source build."""
    names = ", ".join(" ".join(w.args) for w in plan.install[:3])
    return ProjectError(
        exc.message,
        hint=f"venvsyncd installs only wheels on its own and builds nothing from source; if "
        f"{names} needs a source build, `venvsyncd allow {project.path}` builds and installs it",
    )


def unattended(request: SyncRequest, project: Project) -> bool:
    """Does this sync run on its own (the daemon's), so that it builds nothing from source?"""
    return request.unattended and project.settings.trust != "all"

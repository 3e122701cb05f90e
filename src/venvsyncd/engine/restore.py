"""What the user had comes back: their file over a bare `pip freeze`, and their venv, which is
waited for (never replaced by another) while it is missing.

The tutorial habit empties the file and writes the bare freeze into it: every comment, option
and range the user wrote is gone. When a file change makes the file exactly the env's freeze
(whatever its encoding and line endings: PowerShell 5 writes UTF-16), venvsyncd writes the
previous version back with the env's changes since applied in preserve style, and keeps the
bare freeze in the journal, so `venvsyncd undo` gets it if that was really wanted.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from venvsyncd.engine.observe import EnvSide, FileSide
from venvsyncd.engine.outcome import Step
from venvsyncd.engine.plan import env_delta
from venvsyncd.engine.snapshot import Snapshot
from venvsyncd.engine.store import ProjectStore
from venvsyncd.engine.writeback import required_by_others, top_level
from venvsyncd.errors import ProjectError
from venvsyncd.project import Project
from venvsyncd.requirements.edit import apply_preserve
from venvsyncd.requirements.file import parse_text

SUMMARY = (
    "`pip freeze >` replaced {name}: your comments, options and order are back, with the "
    "freeze applied (the bare freeze is in `venvsyncd history`; `venvsyncd undo` takes it)"
)


def freeze_overwrite(
    project: Project, env: EnvSide, file: FileSide | None, snapshot: Snapshot | None
) -> bytes | None:
    """The file to write back when `file` is exactly the env's freeze and the snapshot's file
    was another text; None otherwise (and for style "pip", whose file is the freeze)."""
    settings = project.settings
    if snapshot is None or file is None or settings.style == "pip" or settings.mode == "install":
        return None
    key = str(project.requirements)
    previous, now = snapshot.files.get(key), file.texts.get(key)
    if previous is None or now is None or previous == now or file.includes:
        return None
    freeze = "".join(line + "\n" for dist in env.frozen for line in dist.lines)
    if not freeze or now.removeprefix("\ufeff").replace("\r\n", "\n") != freeze:
        return None
    old = parse_text(previous, project.requirements)
    if old.includes():
        return None  # the freeze may hold what an include named: it stays
    delta = env_delta(snapshot.installed, env.frozen)
    named = {line.name for line in old.requirements() if line.name is not None}
    delta = replace(
        delta,
        added=tuple(d for d in delta.added if d.name not in named),
        changed=delta.changed + tuple(d for d in delta.added if d.name in named),
    )
    if settings.style == "top":
        delta = top_level(delta, required_by_others(env, file))
    try:  # a hash-pinned file comes back when no pin needs new hashes (none are looked up)
        return apply_preserve(
            old, delta, env.marker_env, {} if old.has_hashes() else None
        ).to_bytes()
    except ProjectError:
        return None


def write_back(store: ProjectStore, path: Path, file: FileSide, data: bytes) -> Step | None:
    """Put the user's file back over a bare `pip freeze` (engine/restore.py); the next round
    plans from it. Not when `undo` just put that freeze in its place (the newest version kept
    is the one to restore): that was the user's choice. A racing save wins, as ever."""
    newest = store.versions()[-1:]
    if newest and newest[0].content.read_bytes() == data:
        return None
    bare = "the bare `pip freeze` output that had replaced the file"
    result = store.write(path, data, bare, file.bytes_of(path))
    if not result.written:
        return Step(None, warnings=(raced(path, len(result.displaced)),))
    return Step(None, SUMMARY.format(name=path.name))


def raced(path: Path, displaced: int) -> str:
    kept = f"; {displaced} racing saves are kept in `venvsyncd history`" if displaced else ""
    return (
        f"{path} was saved while venvsyncd wrote it: the save is kept, and the sync "
        f"planned again from it{kept}"
    )


def venv_gone(project: Project, had: Path) -> str:
    """Why a project whose venv is missing waits instead of getting a new one."""
    return (
        f"the venv {had} is gone (deleted, or being made again): venvsyncd waits for it and "
        f"fills it from {project.requirements.name} once it is back; it makes no other venv. "
        f"Make it again (python -m venv {had.name}), or let venvsyncd make it: "
        f"`venvsyncd sync {project.path} --from file`"
    )

"""`venvsyncd sync --from env --style top`: a freeze-style file becomes a "top" one.

The lines of packages that another installed package requires go (pip-chill's rule, from the
installed metadata); a line the user wrote by hand stays: one with an inline comment, a range
rather than the installed `==` pin, a URL, a path or an editable. Files outside the project
folder and constraint files are left alone; pip-compile's output is refused (its `.in` file
is the top level already). The write is a compare-and-swap that keeps the previous version
in the journal, so `venvsyncd undo` brings it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from venvsyncd.engine.observe import EnvSide, FileSide, read_env, read_file, requires_map
from venvsyncd.engine.outcome import SyncRequest
from venvsyncd.engine.routing import inside
from venvsyncd.engine.snapshot import Snapshot, utc_now, venv_identity
from venvsyncd.engine.store import ProjectStore
from venvsyncd.errors import ProjectError
from venvsyncd.project import Project
from venvsyncd.requirements.compiled import compiled_from
from venvsyncd.requirements.edit import EnvDelta, apply_preserve
from venvsyncd.requirements.file import ReqLine, RequirementsFile
from venvsyncd.requirements.pins import comment_tail

SUMMARY = "converted to style top: the lines of packages other installed packages require went"


class Conversion(NamedTuple):
    going: tuple[str, ...]  # "alpha==1.0 (beta requires it)", a line each
    kept: tuple[str, ...]  # "idna>=3  # mine (written by hand)", likewise
    files: dict[Path, bytes]  # the files whose bytes change -> their new bytes
    expected: dict[Path, bytes]  # what each held when read


def top_conversion(project: Project, env: EnvSide, file: FileSide) -> Conversion:
    """What converting the files to style "top" removes and keeps, and their new bytes."""
    if file.pyproject is not None:
        return Conversion((), (), {}, {})  # a pyproject follows the top rule always
    if compiled_from(file.top) is not None:
        raise ProjectError(
            f"{file.top.source} is pip-compile's output: its .in file lists the top level",
            hint="keep style preserve for it, or make the .in file the project's file",
        )
    requirers = _requirers(requires_map(env, file.wanted))
    going: list[str] = []
    kept: list[str] = []
    files: dict[Path, bytes] = {}
    expected: dict[Path, bytes] = {}
    for req in (file.top, *file.includes):
        if req.constraint or not inside(project.path, req.source):
            continue
        names: list[str] = []
        for line in req.requirements():
            if line.name is None or line.name not in requirers or line.name not in env.installed:
                continue
            if _by_hand(line, env.installed[line.name].version):
                kept.append(f"{line.text.strip()}{comment_tail(line)} (written by hand)")
                continue
            names.append(line.name)
            going.append(f"{line.text.strip()} ({', '.join(requirers[line.name])} requires it)")
        if names:
            data = apply_preserve(req, EnvDelta(removed=tuple(names)), env.marker_env).to_bytes()
            files[req.source] = data
            expected[req.source] = _read(file, req)
    return Conversion(tuple(going), tuple(kept), files, expected)


def _requirers(requires: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Canonical name -> the installed packages that require it."""
    found: dict[str, list[str]] = {}
    for name, deps in sorted(requires.items()):
        for dep in deps:
            if dep != name:
                found.setdefault(dep, []).append(name)
    return found


def _by_hand(line: ReqLine, version: str) -> bool:
    """A line the freeze would not have written: a comment, a range, a URL, an editable."""
    if comment_tail(line) or line.url is not None or line.editable:
        return True
    pins = list(line.specifier)
    return not (len(pins) == 1 and pins[0].operator == "==" and pins[0].version == version)


def _read(file: FileSide, req: RequirementsFile) -> bytes:
    data = file.bytes_of(req.source)
    return req.to_bytes() if data is None else data


def convert_to_top(project: Project, state_dir: Path, request: SyncRequest) -> Conversion:
    """Convert the project's files (`request.dry_run`: only say what would go). The snapshot
    then holds the converted files, so the next sync sees no change to act on."""
    store = ProjectStore(state_dir, project.path, request.history)
    with store.locked():
        env = read_env(project.load_venv())
        file = read_file(project.requirements, project.dev_files)
        if file is None:
            return Conversion((), (), {}, {})
        conversion = top_conversion(project, env, file)
        if request.dry_run or not conversion.files:
            return conversion
        for path, data in conversion.files.items():
            if not store.write(path, data, SUMMARY, conversion.expected[path]).written:
                raise ProjectError(
                    f"{path} changed while it was converted: it keeps what was saved",
                    hint="run the command again",
                )
        now = read_file(project.requirements, project.dev_files)
        if now is not None:
            venv_id = venv_identity(project.venv_root)
            store.save(Snapshot(now.texts, now.wanted, env.frozen, utc_now(), venv_id))
    return conversion

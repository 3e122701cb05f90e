"""The edits venvsyncd makes to a requirements file after the venv changed. Pure: no I/O.

`apply_preserve` changes only the lines that must change and keeps every other byte, in the
file's own encoding; `apply_pip_style` makes the file the freeze. `render_change` is the
one-line log summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from venvsyncd.env.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.requirements import hashed
from venvsyncd.requirements.compiled import is_via, new_line_index, via_items, via_length
from venvsyncd.requirements.encoding import UTF8, encode
from venvsyncd.requirements.file import LineKind, ReqLine, RequirementsFile, parse_requirements
from venvsyncd.requirements.line import COMMENT_RE, split_ending
from venvsyncd.requirements.pins import comment_tail, repinned, satisfied

__all__ = ["EnvDelta", "apply_pip_style", "apply_preserve", "render_change"]


@dataclass(frozen=True)
class EnvDelta:
    """How the venv moved since the snapshot.

    `previous` optionally holds the snapshot's dists for `changed` ones (for `render_change`).
    """

    added: tuple[FrozenDist, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[FrozenDist, ...] = ()
    previous: tuple[FrozenDist, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


class _Slot(NamedTuple):
    """Text of the edited file, with the canonical name its requirement line holds, if any."""

    raw: str
    name: str | None


class _Plan(NamedTuple):
    file: RequirementsFile
    wanted: dict[str, FrozenDist]  # added and changed dists, by canonical name
    removed: frozenset[str]
    marker_env: dict[str, str] | None
    hashes: Mapping[str, tuple[str, ...]] | None = None  # see `apply_preserve`


def apply_preserve(
    req: RequirementsFile,
    delta: EnvDelta,
    marker_env: dict[str, str] | None,
    hashes: Mapping[str, tuple[str, ...]] | None = None,
) -> RequirementsFile:
    """`req` edited for `delta`, changing only the lines that must change.

    `marker_env` is the venv's marker environment (None: this interpreter's); lines whose
    marker is false there are never touched. `hashes` (by canonical name, the hashes of the
    release `delta` has) puts the edit in hash mode: each new or moved pin gets its hashes,
    laid out as the file lays them out (`hashed.py`); a file with hashes needs them.
    """
    if delta.empty:
        return req
    if hashes is None and req.has_hashes():
        raise ProjectError(
            f"{req.source} has --hash options, and the hashes of the new versions are unknown",
            hint="run `venvsyncd sync --from file` to make the venv follow the file, or "
            "regenerate the file and its hashes with `pip-compile --generate-hashes`",
        )
    wanted = {dist.name: dist for dist in (*delta.added, *delta.changed)}
    plan = _Plan(req, wanted, frozenset(delta.removed), marker_env, hashes)
    slots = _edited(plan, req.lines)
    new = sorted((d for d in delta.added if not _named(plan, d)), key=lambda d: d.name)
    slots = _insert(slots, new, plan)
    data = encode("".join(slot.raw for slot in slots), req.encoding, req.source)
    edited = parse_requirements(data, req.source)
    if edited.encoding != req.encoding:  # a coding comment pushed past line 2
        raise ProjectError(
            f"{req.source}: the edit would move its coding comment below line 2, where pip "
            "no longer reads it; the file was not written",
            hint="move the coding comment to the first line, or save the file as UTF-8",
        )
    return replace(edited, constraint=req.constraint)


def _edited(plan: _Plan, lines: Sequence[ReqLine]) -> list[_Slot]:
    """Every line edited; a removed requirement's `# via` block goes with it."""
    slots: list[_Slot] = []
    raws = [line.raw for line in lines]
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _is_removed(plan, line):
            slots += _removed(line)
            ends_in_via = len(line.physical) > 1 and is_via(line.physical[-1])
            index += via_items(raws, index) if ends_in_via else via_length(raws, index)
        else:
            slots += _edit_line(plan, line)
    return slots


def _is_removed(plan: _Plan, line: ReqLine) -> bool:
    named = line.kind is LineKind.REQUIREMENT and line.name in plan.removed
    return named and line.applies(plan.marker_env)


def _edit_line(plan: _Plan, line: ReqLine) -> list[_Slot]:
    kept = [_Slot(line.raw, line.name)]
    if line.kind is not LineKind.REQUIREMENT or not line.applies(plan.marker_env):
        return kept
    dist = _dist_for(plan, line)
    if dist is None:
        return kept
    if plan.hashes is not None and line.url is None:
        if line.hashes and satisfied(line.specifier, dist.version):
            return kept
        sep = hashed.separator(plan.file)
        raw = hashed.rehashed(line, dist.version, _hashes_of(plan, dist), sep)
        return [_Slot(raw, line.name)]
    return [_Slot(_moved(plan.file, line, dist), line.name)]


def _hashes_of(plan: _Plan, dist: FrozenDist) -> tuple[str, ...]:
    found = (plan.hashes or {}).get(dist.name)
    if not found:
        raise ProjectError(
            f"{plan.file.source} is hash-pinned, and no hash of {dist.raw_name} "
            f"{dist.version} is known; the file was not written",
            hint="add its line with its --hash yourself, then run `venvsyncd sync`",
        )
    return found


def _dist_for(plan: _Plan, line: ReqLine) -> FrozenDist | None:
    """The added or changed dist this line stands for: by name, else by where it installs from."""
    if line.name is not None:
        return plan.wanted.get(line.name)
    location = plan.file.location(line)
    return next((d for d in plan.wanted.values() if d.url and _bare(d.url) == location), None)


def _named(plan: _Plan, dist: FrozenDist) -> bool:
    """Does a requirement line that applies here already stand for `dist`?"""
    for line in plan.file.requirements():
        found = _dist_for(plan, line) if line.applies(plan.marker_env) else None
        if found is not None and found.name == dist.name:
            return True
    return False


def _bare(url: str) -> str:
    return url.split("#", 1)[0]


def _removed(line: ReqLine) -> list[_Slot]:
    """What stays of an uninstalled package's line: a comment line that ended its continuation
    (not pip-compile's `# via` line, which goes with its pin)."""
    physical = line.physical
    last = split_ending(physical[-1])[0]
    if len(physical) > 1 and COMMENT_RE.match(last) and not is_via(physical[-1]):
        return [_Slot(physical[-1], None)]
    return []


def _moved(file: RequirementsFile, line: ReqLine, dist: FrozenDist) -> str:
    """The line's new text for `dist` (the line itself when it still describes `dist`)."""
    if line.url is not None:
        if line.editable == dist.editable and dist.url and _bare(dist.url) == file.location(line):
            return line.raw
        return _freeze_text(line, dist, file.newline)
    if satisfied(line.specifier, dist.version):
        return line.raw
    if dist.url is not None or dist.editable:
        return _freeze_text(line, dist, file.newline)
    return repinned(line, dist.version)


def _freeze_text(line: ReqLine, dist: FrozenDist, newline: str) -> str:
    """The dist's freeze lines in place of `line`, keeping its inline comment and last ending."""
    ending = split_ending(line.physical[-1])[1]
    *first, last = dist.lines or (f"{dist.raw_name}=={dist.version}",)
    return "".join(text + newline for text in first) + last + comment_tail(line) + ending


def _insert(slots: list[_Slot], new: Sequence[FrozenDist], plan: _Plan) -> list[_Slot]:
    """New dists' freeze lines (with their hashes in hash mode), each where
    `compiled.new_line_index` puts it."""
    req = plan.file
    for dist in new:
        text = "".join(line + req.newline for line in dist.lines)
        if plan.hashes is not None:
            pin = f"{dist.raw_name}=={dist.version}"
            sep = hashed.separator(req)
            text = hashed.new_hashed_line(pin, _hashes_of(plan, dist), sep, req.newline)
        index = new_line_index([s.raw for s in slots], [s.name for s in slots], dist.name)
        if index > 0:
            slots[index - 1] = _terminated(slots[index - 1], req.newline)
        slots = [*slots[:index], _Slot(text, dist.name), *slots[index:]]
    return slots


def _terminated(slot: _Slot, newline: str) -> _Slot:
    """`slot` ending with a line ending, so that a line can follow it."""
    content, ending = split_ending(slot.raw.splitlines(keepends=True)[-1])
    if ending:
        return slot
    raw = slot.raw + newline
    if content.endswith("\\") and not COMMENT_RE.match(content):
        raw += newline  # the file ended inside a continuation: a blank line closes it
    return slot._replace(raw=raw)


def apply_pip_style(freeze: Sequence[FrozenDist], like: RequirementsFile | None = None) -> bytes:
    """The whole file as `pip freeze` would print it (style "pip").

    With `like` (the file it replaces), in that file's line ending and, when it has a BOM, its
    encoding (a coding comment is not part of the freeze, so that file becomes UTF-8).
    """
    if like is None:
        return "".join(line + "\n" for dist in freeze for line in dist.lines).encode("utf-8")
    text = "".join(line + like.newline for dist in freeze for line in dist.lines)
    return encode(text, like.encoding if like.bom else UTF8, like.source)


def render_change(delta: EnvDelta) -> str:
    """One line for logs: `+requests==2.34.2 -urllib3 ~idna 3.6->3.7`."""
    before = {dist.name: dist.version for dist in delta.previous}
    parts = [f"+{dist.raw_name}=={dist.version}" for dist in delta.added]
    parts += [f"-{name}" for name in delta.removed]
    for dist in delta.changed:
        old = before.get(dist.name)
        moved = f"{old}->{dist.version}" if old and old != dist.version else dist.version
        parts.append(f"~{dist.raw_name} {moved}")
    return " ".join(parts) or "no change"

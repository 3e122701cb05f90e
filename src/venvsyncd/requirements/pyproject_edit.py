"""The edits venvsyncd makes to a pyproject.toml after the venv changed: entries of
`[project.dependencies]` and of `[dependency-groups]` arrays added, moved and removed through
tomlkit, which keeps every other byte (comments, order, quoting, the arrays' layout).

A new entry is `name>=version` (or `==`, the `pin` setting), in sorted position when the
array is sorted, else last, in the array's quoting. A moved package's entry is kept while its
range still holds the installed version, else its version is moved, with the operator and
spacing the user wrote when it was `==`, `===` or `>=`. A removed package's entries go, with
their inline comments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from packaging.markers import InvalidMarker
from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from venvsyncd.env.dists import FrozenDist
from venvsyncd.requirements.edit import EnvDelta
from venvsyncd.requirements.pins import satisfied
from venvsyncd.requirements.pyproject import MAIN, Pyproject, entry_name

if TYPE_CHECKING:
    from tomlkit.items import Array

# name [extras] | the specifier as written | ; marker
_PARTS_RE = re.compile(
    r"(\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\]\s*)?)([^;@]*?)(\s*(?:;.*)?)$", re.S
)
_SPACED_RE = re.compile(r"(?:~=|===?|!=|<=|>=|<|>)\s+\S")
_KEPT_OPERATORS = ("==", "===", ">=")


def edit_pyproject(
    pyproject: Pyproject, shares: Mapping[str, EnvDelta], pin: str, marker_env: Mapping[str, str]
) -> bytes:
    """`pyproject`'s bytes with each array's share of the env change applied (keys: `MAIN`
    or a group's name; a group the file lacks is made, at the end of `[dependency-groups]`)."""
    import tomlkit

    bom = pyproject.text.startswith("\ufeff")
    document = tomlkit.parse(pyproject.text.removeprefix("\ufeff"))
    for key, delta in shares.items():
        if delta.empty:
            continue
        array = _array(document, key)
        _remove(array, frozenset(delta.removed))
        for dist in delta.changed:
            _move(array, dist, pin, marker_env)
        for dist in delta.added:
            _add(array, new_entry(dist, pin))
    return ("\ufeff" * bom + tomlkit.dumps(document)).encode("utf-8")


def _array(document: Any, key: str) -> Array:
    import tomlkit

    if key == MAIN:
        table = document["project"]
        name = "dependencies"
    else:
        if "dependency-groups" not in document:
            document.add(tomlkit.nl())
            document.add("dependency-groups", tomlkit.table())
        table = document["dependency-groups"]
        name = key
    if name not in table:
        fresh = tomlkit.array()
        fresh.multiline(True)
        table.add(name, fresh)
    array: Array = table[name]
    return array


def _named(array: Array) -> list[str | None]:
    """The canonical name of each entry of `array` (None: an `include-group` table)."""
    return [entry_name(str(item)) if isinstance(item, str) else None for item in array]


def _remove(array: Array, removed: frozenset[str]) -> None:
    names = _named(array)
    for index in reversed(range(len(names))):
        if names[index] in removed:
            del array[index]


def _move(array: Array, dist: FrozenDist, pin: str, marker_env: Mapping[str, str]) -> None:
    for index, name in enumerate(_named(array)):
        entry = str(array[index])
        if name != dist.name or not _applies(entry, marker_env):
            continue
        moved = moved_entry(entry, dist, pin)
        if moved != entry:
            array[index] = _like(array[index], moved)


def _add(array: Array, entry: str) -> None:
    names = _named(array)
    listed = [n for n in names if n is not None]
    name = entry_name(entry)
    item = _like(next((i for i in array if isinstance(i, str)), None), entry)
    if listed and listed == sorted(listed):
        after = [i for i, n in enumerate(names) if n is not None and n <= name]
        first = next(i for i, n in enumerate(names) if n is not None)
        array.insert(after[-1] + 1 if after else first, item)
    else:
        array.append(item)


def _like(model: object, text: str) -> Any:
    """`text` as a TOML string quoted as `model` is (a literal string stays one)."""
    import tomlkit
    from tomlkit.items import String, StringType

    literal = isinstance(model, String) and model.type == StringType.SLL and "'" not in text
    return tomlkit.string(text, literal=literal)


def _applies(entry: str, marker_env: Mapping[str, str]) -> bool:
    marker = Requirement(entry).marker
    try:
        return marker is None or marker.evaluate(dict(marker_env))
    except (InvalidMarker, KeyError, ValueError):
        return True


def new_entry(dist: FrozenDist, pin: str) -> str:
    """How a new package is written: `name>=1.0` (`pin`), or `name @ URL` when installed
    from a URL or a folder (a pyproject has no editables: the URL of its folder)."""
    if dist.url is not None:
        return f"{dist.raw_name} @ {dist.url}"
    return f"{dist.raw_name}{_operator(pin, dist.version)}{dist.version}"


def moved_entry(entry: str, dist: FrozenDist, pin: str) -> str:
    """`entry` for the installed `dist`: itself while it describes it, else moved."""
    requirement = Requirement(entry)
    if requirement.url is not None or dist.url is not None:
        if requirement.url == dist.url:
            return entry
        if requirement.url is None and satisfied(requirement.specifier, dist.version):
            return entry
        return _rebuilt(requirement, dist, pin)
    if satisfied(requirement.specifier, dist.version):
        return entry
    match = _PARTS_RE.match(entry)
    if match is None:  # not written as the regex expects: rebuilt, extras and marker kept
        return _rebuilt(requirement, dist, pin)
    head, written, tail = match.groups()
    specs = list(requirement.specifier)
    kept = specs[0].operator if len(specs) == 1 and specs[0].operator in _KEPT_OPERATORS else None
    operator = _operator(kept or pin, dist.version)
    space = " " if _SPACED_RE.search(written) else ""
    spec = f"{operator}{space}{dist.version}"
    if written.strip().startswith("(") and written.strip().endswith(")"):
        spec = f"({spec})"
    lead = written[: len(written) - len(written.lstrip())]
    return f"{head}{lead}{spec}{tail}"


def _rebuilt(requirement: Requirement, dist: FrozenDist, pin: str) -> str:
    """`requirement` written anew for `dist`, its extras and marker kept."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker is not None else ""
    if dist.url is not None:  # PEP 508: a space between a URL and its marker
        return f"{requirement.name}{extras} @ {dist.url}" + (f" {marker}" if marker else "")
    return f"{requirement.name}{extras}{_operator(pin, dist.version)}{dist.version}{marker}"


def _operator(pin: str, version: str) -> str:
    """`pin` for a PEP 440 version; `===` (arbitrary equality) for any other."""
    try:
        Version(version)
    except InvalidVersion:
        return "==="
    return pin

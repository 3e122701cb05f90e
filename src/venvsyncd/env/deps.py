"""What a venv's installed distributions require, and what `pip check` would say about them.

`read_dependencies` reads each distribution pip finds for the venv once (`discover`, as
freeze finds them: first per canonical name wins): its version (from the `.dist-info`
folder's name, else METADATA `Version:`) and its `Requires-Dist:` lines (an `.egg-info`'s
`requires.txt` when METADATA has none). `Dependencies` answers from that data alone, so it
is table-tested.

`broken` mirrors pip 26.3 (`operations/check.py`, `commands/check.py`): only base
requirements count (no marker, or one that holds with `extra == ""` for the venv); a missing
one is reported when its name is not installed, a present one when its specifier does not
contain the installed version (prereleases allowed). A distribution whose version or
requirements do not parse is left out of the check, as pip leaves it out (with a warning on
stderr), so what requires it reads as "not installed". Not covered: pip's
"is not supported on this platform" lines (wheel tags).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import zipfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from venvsyncd.env.discover import Found, canonicalize, discover
from venvsyncd.env.freeze import RACY_NS
from venvsyncd.env.scan import StatKey
from venvsyncd.env.venvs import Venv

_NO_EXTRAS: Mapping[str, Collection[str]] = MappingProxyType({})


@dataclass(frozen=True)
class Dependencies:
    """The distributions installed in a venv, their versions and what they require."""

    versions: Mapping[str, str]  # canonical name -> version as installed, in pip's finding order
    requires_dist: Mapping[str, Sequence[str]]  # canonical name -> Requires-Dist lines as written
    marker_env: Mapping[str, str]  # the venv's PEP 508 marker values
    _verdicts: dict[tuple[str, str], bool] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )  # (marker, extra) -> whether it holds: a cache, as queries judge the same markers often
    _held: dict[tuple[str, frozenset[str]], list[Requirement]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )  # (name, extras asked) -> `_applicable`: every query asks it of every dist

    def requires(self, name: str, extras: Collection[str] = ()) -> tuple[str, ...]:
        """Canonical names `name` depends on here, with what its `extras` add; sorted."""
        name = canonicalize(name)
        needs = {canonicalize(req.name) for req in self._applicable(name, extras)}
        return tuple(sorted(needs - {name}))

    def required_by(
        self,
        name: str,
        leaving: Collection[str] = (),
        extras: Mapping[str, Collection[str]] = _NO_EXTRAS,
    ) -> tuple[str, ...]:
        """Installed dists, except those `leaving`, that require `name`; sorted.

        `extras` are the extras the requirements file asks for, per dist; the extras that
        staying dists ask of each other (`beta` requiring `gamma[fast]`) are added to them.
        """
        name = canonicalize(name)
        gone: set[str] = {canonicalize(dist) for dist in leaving}
        asked = self._asked_extras(gone, extras)
        return tuple(
            sorted(
                dist
                for dist in self.versions
                if dist not in gone and dist != name and name in self.requires(dist, asked[dist])
            )
        )

    def requires_map(
        self, extras: Mapping[str, Collection[str]] = _NO_EXTRAS
    ) -> dict[str, tuple[str, ...]]:
        """Every installed dist -> what it requires here, with the extras the file asks for
        (`extras`, per dist) and those installed dists ask of each other."""
        asked = self._asked_extras(set(), extras)
        needs = self.requires_dist
        return {
            dist: self.requires(dist, asked[dist]) if needs.get(dist) else ()
            for dist in self.versions
        }

    def orphans(
        self, roots: Collection[str], extras: Mapping[str, Collection[str]] = _NO_EXTRAS
    ) -> tuple[str, ...]:
        """Installed dists that nothing asked for and nothing needs: not among `roots` (what
        the requirements files name, and what is never an orphan) nor required, directly or
        through others, by one of them (with the extras the files ask for); sorted."""
        requires = self.requires_map(extras)
        reached: set[str] = set()
        todo = [canonicalize(name) for name in roots]
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                todo += requires.get(name, ())
        return tuple(sorted(set(self.versions) - reached))

    def broken(self) -> tuple[str, ...]:
        """The lines `pip check` prints about these dists, in pip's order (none when sound)."""
        checked = self._package_set()
        missing: list[str] = []
        conflicting: list[str] = []
        for name, (version, reqs, _) in checked.items():
            if not reqs:
                continue
            lost, clashing = _problems(reqs, checked)
            missing += [f"{name} {version} requires {dep}, which is not installed." for dep in lost]
            conflicting += [
                f"{name} {version} has requirement {req}, but you have {dep} {have}."
                for dep, have, req in clashing
            ]
        return (*missing, *conflicting)

    def _applicable(self, name: str, extras: Collection[str]) -> list[Requirement]:
        """`name`'s requirements that hold here with `extras` (and the extras it asks of itself)."""
        lines = self.requires_dist.get(name)
        if not lines:
            return []
        asked = frozenset(canonicalize(extra) for extra in extras)
        key = (name, asked)
        if key not in self._held:
            self._held[key] = self._holding(name, lines, set(asked))
        return self._held[key]

    def _holding(self, name: str, lines: Sequence[str], asked: set[str]) -> list[Requirement]:
        reqs = [r for r in map(_parse, lines) if r is not None]
        while True:
            held = [req for req in reqs if self._holds(req.marker, ("", *asked))]
            own = {
                canonicalize(extra)
                for req in held
                if canonicalize(req.name) == name
                for extra in req.extras
            }
            if own <= asked:
                return held
            asked |= own

    def _asked_extras(
        self, gone: set[str], extras: Mapping[str, Collection[str]]
    ) -> dict[str, set[str]]:
        """Per dist, the extras the file or a staying dist asks for, until nothing is added."""
        asked = {name: set[str]() for name in self.versions}
        for name, wanted in extras.items():
            asked.setdefault(canonicalize(name), set()).update(map(canonicalize, wanted))
        grew = True
        while grew:
            grew = False
            for dist in self.versions:
                if dist in gone:
                    continue
                for req in self._applicable(dist, asked[dist]):
                    target = asked.setdefault(canonicalize(req.name), set())
                    added = {canonicalize(extra) for extra in req.extras} - target
                    grew |= bool(added)
                    target |= added
        return asked

    def _holds(self, marker: Marker | None, extras: Sequence[str]) -> bool:
        """Whether the marker holds here for one of `extras`; one that cannot be judged does not."""
        return marker is None or any(self._verdict(marker, extra) for extra in extras)

    def _verdict(self, marker: Marker, extra: str) -> bool:
        key = (str(marker), extra)
        if key not in self._verdicts:
            try:
                self._verdicts[key] = marker.evaluate({**self.marker_env, "extra": extra})
            except ValueError:
                self._verdicts[key] = False
        return self._verdicts[key]

    def _package_set(self) -> dict[str, tuple[Version, list[Requirement], str]]:
        """pip check's package set: dists whose version and base requirements pip can read."""
        found: dict[str, tuple[Version, list[Requirement], str]] = {}
        env = {**self.marker_env, "extra": ""}
        for name, version in self.versions.items():
            try:
                reqs = [_strict_parse(text) for text in self.requires_dist.get(name, ())]
                base = [r for r in reqs if r.marker is None or r.marker.evaluate(env)]
                found[name] = (_version(version), base, version)
            except ValueError:
                continue  # pip: "Error parsing dependencies of NAME" on stderr
        return found


def _problems(
    reqs: list[Requirement], checked: Mapping[str, tuple[Version, list[Requirement], str]]
) -> tuple[list[str], list[tuple[str, Version, Requirement]]]:
    """One dist's missing dependency names and conflicts, deduplicated and sorted as pip does."""
    missing: set[tuple[str, Requirement]] = set()
    conflicting: set[tuple[str, Version, Requirement]] = set()
    for req in reqs:
        name = canonicalize(req.name)
        if name not in checked:
            missing.add((name, req))
        elif not _contains(req.specifier, checked[name][0], checked[name][2]):
            conflicting.add((name, checked[name][0], req))
    return [name for name, _ in sorted(missing, key=str)], sorted(conflicting, key=str)


@functools.lru_cache(maxsize=16384)  # the same pairs at every check of a venv
def _contains(specifier: SpecifierSet, version: Version, spelled: str) -> bool:
    """`spelled`, the version as installed, is in the key: `===` compares spellings, which
    equal versions (1.0, 1.0.0) need not share."""
    return specifier.contains(version, prereleases=True)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Requirement | None:
    """A Requires-Dist line as a requirement; None when it does not parse."""
    try:
        return _strict_parse(text)
    except InvalidRequirement:
        return None


@functools.lru_cache(maxsize=4096)
def _version(text: str) -> Version:
    return Version(text)


@functools.lru_cache(maxsize=4096)
def _strict_parse(text: str) -> Requirement:
    return Requirement(text.strip())  # a folded header may start with a newline


def read_dependencies(
    venv: Venv, marker_env: Mapping[str, str], found: Found | None = None
) -> Dependencies:
    """Every distribution pip finds for the venv, read once: its version and Requires-Dist.

    A `.dist-info` folder's answer is kept while the folder keeps its stat (as `freeze`
    keeps its lines: installers make, rename and delete whole folders, so a change shows
    there); one changed within RACY_NS of the read, an `.egg-info` (setuptools rewrites
    those in place) and one in a zip file are read every time. `found`: the look at the
    venv's path that freeze read too (`discover.discover`), when the caller has it.
    """
    found = discover(venv) if found is None else found
    versions: dict[str, str] = {}
    requires_dist: dict[str, tuple[str, ...]] = {}
    for info, key in zip(found.infos, found.keys, strict=True):
        raw_version, lines = _kept_or_read(info.path, info.archive, found.started, key)
        versions[info.canonical] = info.dir_version or raw_version or ""
        requires_dist[info.canonical] = lines
    return Dependencies(versions, requires_dist, dict(marker_env))


_Read = tuple[str | None, tuple[str, ...]]  # a dist's Version and Requires-Dist lines
_kept: dict[str, tuple[StatKey, _Read]] = {}
_KEPT_LIMIT = 20_000


def _kept_or_read(path: str, archive: str | None, started: int, key: StatKey | None) -> _Read:
    if archive is not None or not path.endswith(".dist-info"):
        return _read(path, archive)
    if key is None:
        return _read(path, archive)
    kept = _kept.get(path)
    if kept is not None and kept[0] == key:
        return kept[1]
    found = _read(path, archive)
    if max(key[0], key[1]) < started - RACY_NS:
        if len(_kept) >= _KEPT_LIMIT:
            _kept.clear()
        _kept[path] = (key, found)
    return found


def _read(path: str, archive: str | None) -> _Read:
    dist = importlib.metadata.PathDistribution(_metadata_path(path, archive))
    try:
        meta = dist.metadata
        raw_version = next(iter(meta.get_all("Version") or ()), None)
        return raw_version, tuple(meta.get_all("Requires-Dist") or _egg_info_requires(dist))
    except (OSError, ValueError):
        return None, ()


def _metadata_path(path: str, archive: str | None) -> Path | zipfile.Path:
    """The metadata folder, in a zip file on the path when `archive` says so."""
    if archive is None:
        return Path(path)
    member = os.path.relpath(path, archive).replace(os.sep, "/")
    return zipfile.Path(archive, at=member + "/")


def _egg_info_requires(dist: importlib.metadata.Distribution) -> list[str]:
    """`requires.txt` as Requires-Dist lines (what pip adds for an `.egg-info`)."""
    if dist.read_text("requires.txt") is None:
        return []
    return list(dist.requires or ())

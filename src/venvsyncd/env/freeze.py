"""What `pip freeze` prints for a venv, computed in-process from the files on disk.

Mirrors pip 26.3 running in the venv's interpreter (pip's `operations/freeze.py`), without
running it: the path entries come from `sitepath`; in each, distributions are found as
`importlib.metadata` lists them (`.dist-info`/`.egg-info` folders and files, `EGG-INFO` in a
`*.egg` folder or zipped egg, in directory or archive order grouped by name; a zip file on
the path is read as a folder, a wheel file is skipped), then `*.egg-link` targets, first per
canonical name winning; the canonical name and version come from a `.dist-info` folder's
name, the printed name from METADATA `Name:`. Lines for URL and editable installs are in
`freeze_urls`. Not covered: the current directory that `python -m pip` adds in front of
`sys.path`.

The daemon reads a venv several times per change, so a distribution's lines are kept while
its metadata folder (or file) keeps its mtime, ctime, inode and size: pip and uv create,
rename and delete whole `.dist-info` folders and write the files in them by tmp + rename, so a
change shows there. An entry changed less than RACY_NS before a read is not kept (a change in
the same clock tick would not show), nor an editable install (its VCS state lives elsewhere),
nor anything while `.egg-link` files are on the path.
"""

# pip and site.py compute with path strings (abspath without following symlinks, normcase,
# string comparison, printed as is), and this runs on every freeze: os.path, not pathlib.
# ruff: noqa: PTH113, PTH118, PTH119, PTH120, PTH122

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from venvsyncd.env.dists import FrozenDist
from venvsyncd.env.freeze_urls import (
    DirectUrl,
    direct_reference,
    editable_lines,
    parse_direct_url,
    url_to_path,
)
from venvsyncd.env.metadata import ZipListing, list_location, read_file
from venvsyncd.env.metadata import read_headers as read_headers  # re-exported: part of freeze's API
from venvsyncd.env.scan import Listing, StatKey, key_of, shared_listing
from venvsyncd.env.sitepath import python_version, venv_sys_path
from venvsyncd.env.venvs import Venv

ALWAYS_SKIPPED = frozenset({"python", "wsgiref", "argparse", "pip"})
SKIPPED_BEFORE_3_12 = frozenset({"setuptools", "distribute", "wheel"})
_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_NORMAL_VERSION = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")
_SEPARATORS = re.compile(r"[-_.]+")
RACY_NS = 1_000_000_000  # an entry changed this recently (ns) may change again unseen
_KEPT_LIMIT = 20_000
_kept: dict[str, tuple[StatKey, FrozenDist]] = {}  # metadata path -> its stat, its dist


def installed(venv: Venv) -> tuple[FrozenDist, ...]:
    """Every distribution pip finds for the venv, first per canonical name, in finding order.

    Includes pip, setuptools and wheel. `FrozenDist.name` is pip's `canonical_name` (from the
    `.dist-info` folder's name); `url` is the direct URL, or for an editable the `-e` target
    as a URL (`git+...`, or the project folder's `file:` URL).
    """
    started = time.time_ns()
    site = venv_sys_path(venv)
    shared = shared_listing(str(venv.site_packages))
    listings = site_listings(site.entries, shared)
    links = _EggLinks(site.entries, listings)
    return tuple(_kept_or_read(info, links, started, shared) for info in _discover(listings))


def site_listings(
    entries: Sequence[str], shared: Listing | None
) -> list[tuple[str, list[str] | None]]:
    """Each path entry's names; site-packages' from the action's shared listing when given."""
    if shared is None:
        return [(entry, _listdir(entry)) for entry in entries]
    names = [item.name for item in shared.entries]
    return [(e, names if e == shared.folder else _listdir(e)) for e in entries]


def _kept_or_read(
    info: _Info, links: _EggLinks, started: int, shared: Listing | None = None
) -> FrozenDist:
    """`_frozen(info, links)`, from what was kept while its folder or file is unchanged."""
    if info.archive is not None or links.any:
        return _frozen(info, links)
    key = key_of(shared, info.path)
    if key is None:
        return _frozen(info, links)
    kept = _kept.get(info.path)
    if kept is not None and kept[0] == key:
        return kept[1]
    dist = _frozen(info, links)
    if not dist.editable and max(key[0], key[1]) < started - RACY_NS:
        if len(_kept) >= _KEPT_LIMIT:
            _kept.clear()
        _kept[info.path] = (key, dist)
    return dist


def freeze(venv: Venv, dists: Sequence[FrozenDist] | None = None) -> tuple[FrozenDist, ...]:
    """What `pip freeze` lists: pip's skip set for the venv's Python, sorted as pip sorts.

    `dists` is `installed(venv)` when the caller has it already (one scan, not two).
    """
    version = python_version(venv)
    skip = ALWAYS_SKIPPED
    if version is not None and version < (3, 12):
        skip = skip | SKIPPED_BEFORE_3_12
    by_name: dict[str, FrozenDist] = {}
    for dist in installed(venv) if dists is None else dists:
        by_name[canonicalize(dist.raw_name)] = dist  # a later dist replaces an earlier one
    ordered = sorted(by_name.items(), key=lambda item: item[1].raw_name.lower())
    return tuple(dist for name, dist in ordered if name not in skip)


def freeze_text(venv: Venv) -> str:
    """The bytes `<venv python> -m pip freeze` writes to stdout, as text."""
    return "".join(line + "\n" for dist in freeze(venv) for line in dist.lines)


@functools.lru_cache(maxsize=4096)
def canonicalize(name: str) -> str:
    """PEP 503 normalisation (`packaging.utils.canonicalize_name`)."""
    return _SEPARATORS.sub("-", name).lower()


@functools.lru_cache(maxsize=4096)
def normalized_version(text: str) -> str | None:
    """The PEP 440 normal form of `text` (`01.02.0` -> `1.2.0`), None when it is invalid."""
    if _NORMAL_VERSION.fullmatch(text):
        return text
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(text))
    except InvalidVersion:
        return None


class _Info(NamedTuple):
    """A metadata folder or file found on the path, named as pip names it."""

    path: str
    canonical: str
    dir_version: str | None  # from `name-version.dist-info`
    headers: dict[str, str] | None  # METADATA headers, when naming needed them already
    archive: str | None = None  # the zip file on the path that holds `path`


def _listdir(folder: str) -> list[str] | None:
    """A path entry's names (a zip file's as a `ZipListing`), None when it has none."""
    return list_location(folder)


def _discover(listings: list[tuple[str, list[str] | None]]) -> Iterator[_Info]:
    """pip's `_DistributionFinder` over the path entries, then `iter_all_distributions`'s
    name filter (which drops the `~`-prefixed stash folders)."""
    found: set[str] = set()
    for location, names in listings:
        yield from _find(location, names, found)
        yield from _find_egg_linked(location, names, found)


def _find(location: str, names: list[str] | None, found: set[str]) -> Iterator[_Info]:
    if location.endswith(".whl") and _looks_like_wheel(location):
        return  # pip does not look inside a wheel file on the path
    archive = names.archive if isinstance(names, ZipListing) else None
    for path in _info_paths(location, names or ()):
        info = _info(path, archive)
        if info is None or info.canonical in found:
            continue
        found.add(info.canonical)
        if _VALID_NAME.match(info.canonical):
            yield info


def _info_paths(location: str, names: list[str] | tuple[()]) -> list[str]:
    """The metadata paths in a folder in `importlib.metadata`'s order (its `Lookup`)."""
    infos: dict[str, list[str]] = {}
    eggs: list[str] = []
    base_is_egg = os.path.basename(location).lower().endswith(".egg")
    for child in names:
        low = child.lower()
        if low.endswith((".dist-info", ".egg-info")):
            key = _lookup_key(low.rpartition(".")[0].partition("-")[0])
            infos.setdefault(key, []).append(os.path.join(location, child))
        elif base_is_egg and low == "egg-info":
            eggs.append(os.path.join(location, child))
    return [path for group in infos.values() for path in group] + eggs


@functools.lru_cache(maxsize=4096)
def _lookup_key(name: str) -> str:
    return _SEPARATORS.sub("_", name).lower()


def _looks_like_wheel(location: str) -> bool:
    """pip's `_looks_like_wheel`: a file named as a wheel that is a zip file."""
    import zipfile

    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        parse_wheel_filename(os.path.basename(location))
    except InvalidWheelFilename:
        return False
    return os.path.isfile(location) and zipfile.is_zipfile(location)


def _info(path: str, archive: str | None = None) -> _Info | None:
    """Name the metadata at `path` as pip >= 24.2 does; None when it has no name at all."""
    stem, suffix = os.path.splitext(os.path.basename(path))
    dir_name, dir_version = "", None
    if suffix == ".dist-info":
        name, sep, version = stem.partition("-")
        if sep:
            dir_name, dir_version = name, version
    elif suffix == ".egg-info":
        dir_name = stem.split("-", 1)[0]
    if dir_name:
        return _Info(path, canonicalize(dir_name), dir_version, None, archive)
    headers = read_headers(path, archive)
    if "name" not in headers:
        return None  # pip: "Skipping ... due to invalid metadata entry 'name'"
    return _Info(path, canonicalize(headers["name"]), dir_version, headers, archive)


def _find_egg_linked(location: str, names: list[str] | None, found: set[str]) -> Iterator[_Info]:
    """Distributions in the folders that `*.egg-link` files in folder `location` name."""
    if isinstance(names, ZipListing):
        return
    for child in names or ():
        if not child.endswith(".egg-link") or child == ".egg-link":
            continue
        target = _egg_link_target(os.path.join(location, child))
        if target:
            linked = str(Path(location, target))
            yield from _find(linked, _listdir(linked), found)


def _egg_link_target(path: str) -> str:
    """The first non-empty line of an `.egg-link` file."""
    try:
        with open(path, encoding="locale", errors="replace") as link:
            return next((line.strip() for line in link if line.strip()), "")
    except OSError:
        return ""


class _EggLinks:
    """pip's `egg_link_path_from_sys_path`: is there an `.egg-link` for a name on the path?"""

    def __init__(self, entries: tuple[str, ...], listings: list[tuple[str, list[str] | None]]):
        self.entries = entries
        self.any = any(
            name.lower().endswith(".egg-link") for _, names in listings for name in names or ()
        )

    def __contains__(self, raw_name: str) -> bool:
        if not self.any:
            return False
        candidates = (re.sub("[^A-Za-z0-9.]+", "-", raw_name) + ".egg-link", raw_name + ".egg-link")
        return any(Path(e, c).is_file() for e in self.entries for c in candidates)


def _read_direct_url(info: _Info) -> DirectUrl | None:
    data = read_file(info.path, "direct_url.json", info.archive)
    try:
        return None if data is None else parse_direct_url(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _frozen(info: _Info, links: _EggLinks) -> FrozenDist:
    """The dist's freeze lines, as `FrozenRequirement.from_dist` and `__str__` make them."""
    headers = info.headers if info.headers is not None else read_headers(info.path, info.archive)
    raw_name = headers.get("name", info.canonical)
    raw_version = headers.get("version")
    version_text = info.dir_version or raw_version
    version = None if version_text is None else normalized_version(version_text)
    display = f"{raw_name}=={version}" if version is not None else f"{raw_name}==={raw_version}"
    direct = _read_direct_url(info)
    if direct is not None:
        project = url_to_path(direct.url) if direct.kind == "dir" and direct.editable else ""
    else:
        project = os.path.dirname(info.path) if raw_name in links else ""
    url: str | None = None
    comments: tuple[str, ...] = ()
    if project:
        editable = editable_lines(project, raw_name, display)
        comments, requirement, url = editable.comments, f"-e {editable.requirement}", editable.url
    elif direct is not None:
        url = direct_reference(direct)
        requirement = f"{raw_name} @ {url}"
    else:
        requirement = display
    text = "\n".join([*comments, requirement]).rstrip()
    shown_version = version if version is not None else (raw_version or "")
    return FrozenDist(
        info.canonical, raw_name, shown_version, tuple(text.split("\n")), bool(project), url
    )

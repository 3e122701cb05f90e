"""Where pip finds a venv's distributions: the metadata on its path, named as pip names it.

Mirrors pip 26.3 running in the venv's interpreter, without running it: the path entries come
from `sitepath`; in each, distributions are found as `importlib.metadata` lists them
(`.dist-info`/`.egg-info` folders and files, `EGG-INFO` in a `*.egg` folder or zipped egg, in
directory or archive order grouped by name; a zip file on the path is read as a folder, a wheel
file is skipped), then `*.egg-link` targets, first per canonical name winning; the canonical
name and version come from a `.dist-info` folder's name (else METADATA). `freeze` and `deps`
read what one look (`discover`) found. A folder's names and the metadata they name are the same
at every look, so what each name means is kept (`_lookup_key`, `_named_info`).
"""

# pip and site.py compute with path strings (abspath without following symlinks, normcase,
# string comparison, printed as is), and this runs on every action: os.path, not pathlib.
# ruff: noqa: PTH113, PTH118, PTH119, PTH122

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from venvsyncd.env.metadata import ZipListing, list_location, read_headers
from venvsyncd.env.scan import Listing, StatKey, key_of, shared_listing
from venvsyncd.env.sitepath import venv_sys_path
from venvsyncd.env.venvs import Venv

_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[-_.]+")


class Found(NamedTuple):
    """The metadata pip finds for a venv, as one look at its path saw it (`installed` and
    `deps.read_dependencies` read the same look)."""

    infos: tuple[Info, ...]  # in finding order, first per canonical name
    keys: tuple[StatKey | None, ...]  # each one's stat (`scan.key_of`; None: in a zip file)
    links: EggLinks
    started: int  # time.time_ns() before the look: what changed after it is not kept
    entries: tuple[str, ...]  # the venv's path entries (`sitepath.venv_sys_path`)


def discover(venv: Venv) -> Found:
    """One look at the venv's path entries for metadata (`installed`'s first half)."""
    started = time.time_ns()
    site = venv_sys_path(venv)
    shared = shared_listing(str(venv.site_packages))
    listings = site_listings(site.entries, shared)
    links = EggLinks(site.entries, listings)
    infos = tuple(_discover(listings, links.any))
    keys = tuple(None if i.archive is not None else key_of(shared, i.path) for i in infos)
    return Found(infos, keys, links, started, site.entries)


def site_listings(
    entries: Sequence[str], shared: Listing | None
) -> list[tuple[str, list[str] | None]]:
    """Each path entry's names; site-packages' from the action's shared listing when given."""
    if shared is None:
        return [(entry, _listdir(entry)) for entry in entries]
    names = [item.name for item in shared.entries]
    return [(e, names if e == shared.folder else _listdir(e)) for e in entries]


@functools.lru_cache(maxsize=4096)
def canonicalize(name: str) -> str:
    """PEP 503 normalisation (`packaging.utils.canonicalize_name`)."""
    return _SEPARATORS.sub("-", name).lower()


class Info(NamedTuple):
    """A metadata folder or file found on the path, named as pip names it."""

    path: str
    canonical: str
    dir_version: str | None  # from `name-version.dist-info`
    headers: dict[str, str] | None  # METADATA headers, when naming needed them already
    archive: str | None = None  # the zip file on the path that holds `path`


def _listdir(folder: str) -> list[str] | None:
    """A path entry's names (a zip file's as a `ZipListing`), None when it has none."""
    return list_location(folder)


def _discover(listings: list[tuple[str, list[str] | None]], egg_links: bool) -> Iterator[Info]:
    """pip's `_DistributionFinder` over the path entries, then `iter_all_distributions`'s
    name filter (which drops the `~`-prefixed stash folders); `egg_links`: some entry has
    `.egg-link` files (`EggLinks.any`)."""
    found: set[str] = set()
    for location, names in listings:
        yield from _find(location, names, found)
        if egg_links:
            yield from _find_egg_linked(location, names, found)


def _find(location: str, names: list[str] | None, found: set[str]) -> Iterator[Info]:
    if location.endswith(".whl") and _looks_like_wheel(location):
        return  # pip does not look inside a wheel file on the path
    archive = names.archive if isinstance(names, ZipListing) else None
    for path in _info_paths(location, names or ()):
        info = _info(path, archive)
        if info is None or info.canonical in found:
            continue
        found.add(info.canonical)
        if _valid(info.canonical):
            yield info


@functools.lru_cache(maxsize=16384)
def _valid(canonical: str) -> bool:
    return _VALID_NAME.match(canonical) is not None


def _info_paths(location: str, names: list[str] | tuple[()]) -> list[str]:
    """The metadata paths in a folder in `importlib.metadata`'s order (its `Lookup`)."""
    infos: dict[str, list[str]] = {}
    eggs: list[str] = []
    base_is_egg = os.path.basename(location).lower().endswith(".egg")
    prefix = os.path.join(location, "")  # the folder and its separator: names are plain
    for child in names:
        key = _lookup_key(child)
        if key is not None:
            infos.setdefault(key, []).append(prefix + child)
        elif base_is_egg and child.lower() == "egg-info":
            eggs.append(prefix + child)
    return [path for group in infos.values() for path in group] + eggs


@functools.lru_cache(maxsize=16384)  # a folder's names, again at every look
def _lookup_key(child: str) -> str | None:
    """The `Lookup` key of a `.dist-info`/`.egg-info` name (None: no metadata name)."""
    low = child.lower()
    if not low.endswith((".dist-info", ".egg-info")):
        return None
    return _SEPARATORS.sub("_", low.rpartition(".")[0].partition("-")[0]).lower()


def _looks_like_wheel(location: str) -> bool:
    """pip's `_looks_like_wheel`: a file named as a wheel that is a zip file."""
    import zipfile

    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        parse_wheel_filename(os.path.basename(location))
    except InvalidWheelFilename:
        return False
    return os.path.isfile(location) and zipfile.is_zipfile(location)


def _info(path: str, archive: str | None = None) -> Info | None:
    """Name the metadata at `path` as pip >= 24.2 does; None when it has no name at all."""
    named = _named_info(path, archive)
    if named is not None:
        return named
    dir_version = None
    stem, suffix = os.path.splitext(os.path.basename(path))
    if suffix == ".dist-info":
        _, sep, version = stem.partition("-")
        dir_version = version if sep else None
    headers = read_headers(path, archive)
    if "name" not in headers:
        return None  # pip: "Skipping ... due to invalid metadata entry 'name'"
    return Info(path, canonicalize(headers["name"]), dir_version, headers, archive)


@functools.lru_cache(maxsize=16384)  # a folder's metadata, again at every look
def _named_info(path: str, archive: str | None) -> Info | None:
    """`_info` when the folder's (or file's) name names the dist; None: METADATA must."""
    stem, suffix = os.path.splitext(os.path.basename(path))
    if suffix == ".dist-info":
        name, sep, version = stem.partition("-")
        return Info(path, canonicalize(name), version, None, archive) if sep and name else None
    if suffix == ".egg-info":
        name = stem.split("-", 1)[0]
        return Info(path, canonicalize(name), None, None, archive) if name else None
    return None


def _find_egg_linked(location: str, names: list[str] | None, found: set[str]) -> Iterator[Info]:
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


class EggLinks:
    """pip's `egg_link_path_from_sys_path`: is there an `.egg-link` for a name on the path?"""

    def __init__(self, entries: tuple[str, ...], listings: list[tuple[str, list[str] | None]]):
        self.entries = entries
        # any name ending in `.egg-link`, whatever its case (one search per folder: no name
        # holds a NUL)
        self.any = any(
            ".egg-link\0" in ("\0".join(names) + "\0").lower() for _, names in listings if names
        )

    def __contains__(self, raw_name: str) -> bool:
        if not self.any:
            return False
        candidates = (re.sub("[^A-Za-z0-9.]+", "-", raw_name) + ".egg-link", raw_name + ".egg-link")
        return any(Path(e, c).is_file() for e in self.entries for c in candidates)

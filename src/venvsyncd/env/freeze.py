"""What `pip freeze` prints for a venv, computed in-process from the files on disk.

Mirrors pip 26.3 running in the venv's interpreter (pip's `operations/freeze.py`), without
running it: the distributions are those pip finds (`discover`); the canonical name and
version come from a `.dist-info` folder's name, the printed name from METADATA `Name:`. Lines
for URL and editable installs are in `freeze_urls`. Not covered: the current directory that
`python -m pip` adds in front of `sys.path`.

The daemon reads a venv several times per change, so a distribution's lines are kept while
its metadata folder (or file) keeps its mtime, ctime, inode and size: pip and uv create,
rename and delete whole `.dist-info` folders and write the files in them by tmp + rename, so a
change shows there. An entry changed less than RACY_NS before a read is not kept (a change in
the same clock tick would not show), nor an editable install (its VCS state lives elsewhere),
nor anything while `.egg-link` files are on the path.
"""

# pip and site.py compute with path strings (abspath without following symlinks, normcase,
# string comparison, printed as is), and this runs on every freeze: os.path, not pathlib.
# ruff: noqa: PTH120

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence

from venvsyncd.env.discover import EggLinks, Found, Info, discover
from venvsyncd.env.discover import canonicalize as canonicalize  # re-exported: freeze's API
from venvsyncd.env.dists import FrozenDist
from venvsyncd.env.freeze_urls import (
    DirectUrl,
    direct_reference,
    editable_lines,
    parse_direct_url,
    url_to_path,
)
from venvsyncd.env.metadata import read_file
from venvsyncd.env.metadata import read_headers as read_headers  # re-exported: part of freeze's API
from venvsyncd.env.scan import StatKey
from venvsyncd.env.sitepath import python_version
from venvsyncd.env.venvs import Venv

ALWAYS_SKIPPED = frozenset({"python", "wsgiref", "argparse", "pip"})
SKIPPED_BEFORE_3_12 = frozenset({"setuptools", "distribute", "wheel"})
_NORMAL_VERSION = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")
RACY_NS = 1_000_000_000  # an entry changed this recently (ns) may change again unseen
_KEPT_LIMIT = 20_000
_kept: dict[str, tuple[StatKey, FrozenDist]] = {}  # metadata path -> its stat, its dist


def installed(venv: Venv, found: Found | None = None) -> tuple[FrozenDist, ...]:
    """Every distribution pip finds for the venv, first per canonical name, in finding order.

    Includes pip, setuptools and wheel. `FrozenDist.name` is pip's `canonical_name` (from the
    `.dist-info` folder's name); `url` is the direct URL, or for an editable the `-e` target
    as a URL (`git+...`, or the project folder's `file:` URL). `found`: a `discover` of
    the venv the caller made already.
    """
    found = discover(venv) if found is None else found
    links, started = found.links, found.started
    return tuple(
        _kept_or_read(info, links, started, key)
        for info, key in zip(found.infos, found.keys, strict=True)
    )


def _kept_or_read(info: Info, links: EggLinks, started: int, key: StatKey | None) -> FrozenDist:
    """`_frozen(info, links)`, from what was kept while its folder or file (whose stat is
    `key`) is unchanged."""
    if info.archive is not None or links.any:
        return _frozen(info, links)
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
def normalized_version(text: str) -> str | None:
    """The PEP 440 normal form of `text` (`01.02.0` -> `1.2.0`), None when it is invalid."""
    if _NORMAL_VERSION.fullmatch(text):
        return text
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(text))
    except InvalidVersion:
        return None


def _read_direct_url(info: Info) -> DirectUrl | None:
    data = read_file(info.path, "direct_url.json", info.archive)
    try:
        return None if data is None else parse_direct_url(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _frozen(info: Info, links: EggLinks) -> FrozenDist:
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

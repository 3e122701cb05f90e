"""A distribution's metadata files, in a folder or inside a zip file on `sys.path`.

Reads as `importlib.metadata` (CPython 3.11-3.13) reads: a path entry is listed with
`os.listdir`, else, when it is a zip file (a `.zip`, a zipped `.egg`), by the first path
component of its members in archive order (`FastPath.zip_children`); a metadata file is read
from the folder, or from the archive member of the same name (`zipfile.Path`).
"""

# importlib.metadata computes with path strings, and this runs on every freeze: os.path.
# ruff: noqa: PTH116, PTH118, PTH208

from __future__ import annotations

import functools
import os
import re

_HEADER_LINE = re.compile(r"[\x21-\x39\x3b-\x7e]*:|[\t ]|From ")
_WANTED = ("name", "version")
_HEAD_BYTES = 8192


class ZipListing(list[str]):
    """The top-level names in a zip file on the path; `archive` is the zip file's path."""

    def __init__(self, archive: str, names: list[str]) -> None:
        super().__init__(names)
        self.archive = archive


def list_location(location: str) -> list[str] | None:
    """A path entry's children: a folder's names, a zip file's `ZipListing`, else None."""
    try:
        return os.listdir(location)
    except NotADirectoryError:
        pass
    except OSError:
        return None
    try:
        st = os.stat(location)
    except OSError:
        return None
    names = _zip_children(location, st.st_mtime_ns, st.st_size, st.st_ino)
    return None if names is None else ZipListing(location, names)


@functools.lru_cache(maxsize=64)
def _zip_children(path: str, mtime_ns: int, size: int, inode: int) -> list[str] | None:
    """A zip file's top-level names in archive order (cached while the file is unchanged)."""
    import zipfile  # only for a zip file on the path: rare, and a cost to every freeze

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return None
    return list(dict.fromkeys(member.split("/", 1)[0] for member in members))


def read_file(info_path: str, name: str, archive: str | None = None) -> bytes | None:
    """The bytes of file `name` in a metadata folder (`""`: the path itself, an egg-info
    file); None when it is missing or unreadable. In a zip, `info_path` is below `archive`."""
    if archive is None:
        try:
            with open(os.path.join(info_path, name) if name else info_path, "rb") as data:
                return data.read()
        except (OSError, ValueError):
            return None
    member = os.path.relpath(info_path, archive).replace(os.sep, "/")
    if not name:
        return None  # zipfile.Path("x/").joinpath("") is a folder: nothing to read
    import zipfile

    try:
        with zipfile.ZipFile(archive) as zipped:
            return zipped.read(f"{member}/{name}")
    except (OSError, KeyError, zipfile.BadZipFile, ValueError, EOFError):
        return None


def read_headers(path: str, archive: str | None = None) -> dict[str, str]:
    """METADATA's first `Name` and `Version` values (lower-cased keys), as `email` parses them.

    Reads `METADATA`, else `PKG-INFO`, else `path` itself (an `.egg-info` file), the first that
    is not empty, as `importlib.metadata` does; only the head of the file when that holds both.
    """
    if archive is not None:
        for name in ("METADATA", "PKG-INFO", ""):
            data = read_file(path, name, archive)
            if data:
                return _parse_headers(_lines(data, True))[0]
        return {}
    for candidate in (os.path.join(path, "METADATA"), os.path.join(path, "PKG-INFO"), path):
        try:
            with open(candidate, "rb") as meta:
                head = meta.read(_HEAD_BYTES)
                if not head:
                    continue
                complete = len(head) < _HEAD_BYTES
                headers, final = _parse_headers(_lines(head, complete))
                if not (complete or final):
                    headers, _ = _parse_headers(_lines(head + meta.read(), True))
                return headers
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
            continue
    return {}


def _lines(data: bytes, complete: bool) -> list[str]:
    """Lines of `data` with universal newlines; without a cut-off last line unless `complete`."""
    if not complete:
        data = data[: max(data.rfind(b"\n"), data.rfind(b"\r")) + 1]
    lines = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines if complete else lines[:-1]


def _parse_headers(lines: list[str]) -> tuple[dict[str, str], bool]:
    """The wanted headers' first values as `email.feedparser` reads them, and whether that
    is final (the header block ended, or all wanted headers were seen)."""
    found: dict[str, str] = {}
    name, value = "", list[str]()
    for line in lines:
        if not line or not _HEADER_LINE.match(line):
            _keep(found, name, value)
            return found, True
        if line[0] in " \t":
            if name:
                value.append(line)
            continue
        _keep(found, name, value)
        if len(found) == len(_WANTED):
            return found, True
        name, value = "", []
        colon = line.find(":")
        if colon > 0 and not line.startswith("From "):
            name, value = line[:colon], [line[colon + 1 :].lstrip(" \t")]
    _keep(found, name, value)
    return found, False


def _keep(found: dict[str, str], name: str, value: list[str]) -> None:
    key = name.lower()
    if key in _WANTED and key not in found:
        found[key] = "\n".join(value).rstrip("\r\n")

"""The `pip freeze` lines of distributions installed from a URL, a path or in editable mode.

Mirrors pip 26.3: `direct_url.json` is read and validated as `packaging.direct_url` does
(anything invalid counts as absent) and turned into `Name @ URL` as
`utils/direct_url_helpers.py` does; editables get the lines of `operations/freeze.py`'s
`_get_editable_info`, asking the version control tool (`vcs`) what pip's `vcs` package asks.

`venvsyncd freeze` is a whole process per call, so what only some venvs need (`json` for a
`direct_url.json`, `vcs` for an editable install) is imported when it is needed, and
`urllib.request` (which pulls in `http.client`, `email` and `ssl`) never.
"""

# pip and site.py compute with path strings (abspath without following symlinks, normcase,
# string comparison, printed as is), and this runs on every freeze: os.path, not pathlib.

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

_ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # string.ascii_letters
_NO_LOCATION = "## !! Could not determine repository location"


class DirectUrl(NamedTuple):
    """The parts of a valid PEP 610 `direct_url.json` that freeze prints."""

    url: str
    kind: str  # "vcs", "archive" or "dir"
    vcs: str | None = None
    commit_id: str | None = None
    first_hash: str | None = None  # "sha256=..." from archive_info
    editable: bool = False
    subdirectory: str | None = None


class EditableLines(NamedTuple):
    comments: tuple[str, ...]
    requirement: str  # what follows `-e `
    url: str  # the requirement as a URL: the VCS URL, or the project folder's file: URL


class _Invalid(Exception):
    """direct_url.json does not follow PEP 610 (pip then ignores it)."""


def parse_direct_url(text: str) -> DirectUrl | None:
    """A `direct_url.json`'s content as `DirectUrl`, or None when pip would ignore it."""
    import json

    try:
        data = json.loads(text)
        return _direct_url(data) if isinstance(data, dict) else None
    except (ValueError, _Invalid):
        return None


def _get(data: Mapping[str, Any], kind: type, key: str) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise _Invalid(key)
    return value


def _direct_url(data: Mapping[str, Any]) -> DirectUrl:
    url = _get(data, str, "url")
    vcs_info = _get(data, dict, "vcs_info")
    archive_info = _get(data, dict, "archive_info")
    dir_info = _get(data, dict, "dir_info")
    subdirectory = _get(data, str, "subdirectory")
    if (
        url is None
        or (vcs_info is not None) + (archive_info is not None) + (dir_info is not None) != 1
    ):
        raise _Invalid("url")
    if vcs_info is not None:
        vcs, commit = _get(vcs_info, str, "vcs"), _get(vcs_info, str, "commit_id")
        _get(vcs_info, str, "requested_revision")
        if vcs is None or commit is None:
            raise _Invalid("vcs_info")
        return DirectUrl(url, "vcs", vcs=vcs, commit_id=commit, subdirectory=subdirectory)
    if archive_info is not None:
        first = _first_hash(archive_info)
        return DirectUrl(url, "archive", first_hash=first, subdirectory=subdirectory)
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "file" or not parsed.path.startswith("/"):
        raise _Invalid("url")
    editable = bool(_get(dir_info, bool, "editable"))
    return DirectUrl(url, "dir", editable=editable, subdirectory=subdirectory)


def _first_hash(archive_info: Mapping[str, Any]) -> str | None:
    """The first of `hashes`, else the legacy `hash` (which must agree with `hashes`)."""
    hashes = _get(archive_info, dict, "hashes")
    if hashes is not None and not all(isinstance(v, str) for v in hashes.values()):
        raise _Invalid("hashes")
    legacy = _get(archive_info, str, "hash")
    if legacy is not None:
        algorithm, sep, value = legacy.partition("=")
        if not sep or (hashes is not None and hashes.get(algorithm, None) != value):
            raise _Invalid("hash")
        if hashes is None:
            hashes = {algorithm: value}
    if not hashes:
        return None
    algorithm, value = next(iter(hashes.items()))
    return f"{algorithm}={value}"


def direct_reference(direct: DirectUrl) -> str:
    """What follows `Name @ ` in the freeze line (`direct_url_as_pep440_direct_reference`)."""
    fragments = []
    if direct.kind == "vcs":
        text = f"{direct.vcs}+{direct.url}@{direct.commit_id}"
    else:
        text = direct.url
        if direct.first_hash:
            fragments.append(direct.first_hash)
    if direct.subdirectory:
        fragments.append("subdirectory=" + direct.subdirectory)
    return text + ("#" + "&".join(fragments) if fragments else "")


def url_to_path(url: str) -> str:
    """pip's `url_to_path` for a `file:` URL (a remote host gives "")."""
    _, netloc, path, _, _ = urllib.parse.urlsplit(url)
    if netloc not in ("", "localhost"):
        if os.name != "nt":
            return ""
        netloc = "\\\\" + netloc
    else:
        netloc = ""
    path = url2pathname(netloc + path)
    if (
        os.name == "nt"
        and not netloc
        and len(path) >= 3
        and path[0] == "/"
        and path[1] in _ASCII_LETTERS
        and path[2:4] in (":", ":/")
    ):
        path = path[1:]
    return path


def url2pathname(path: str) -> str:
    """`urllib.request.url2pathname`, without importing `urllib.request`."""
    if os.name == "nt":
        from nturl2path import url2pathname as nt_url2pathname

        return nt_url2pathname(path)
    return urllib.parse.unquote(path)


def editable_lines(project: str, raw_name: str, display: str) -> EditableLines:
    """The lines for an editable install of `project` (`_get_editable_info`).

    `display` is the dist's `Name==version` (or `Name===raw`) for the comment lines.
    """
    from venvsyncd.env.vcs import NoRemote, RemoteNotValid, ToolFailed, ToolMissing, backend_for

    location = os.path.normcase(os.path.abspath(project))
    file_url = Path(location).as_uri()
    backend = backend_for(location)
    if backend is None:
        comment = f"# Editable install with no version control ({display})"
        return EditableLines((comment,), location, file_url)
    try:
        requirement = backend.requirement(location, raw_name)
    except NoRemote:
        comment = f"# Editable {backend.label} install with no remote ({display})"
        return EditableLines((comment,), location, file_url)
    except RemoteNotValid as exc:
        comments = (
            f"# Editable {backend.label} install ({display}) with either a deleted local"
            " remote or invalid URI:",
            f"# '{exc.args[0]}'",
        )
        return EditableLines(comments, location, file_url)
    except ToolMissing:
        return EditableLines((), location, file_url)
    except ToolFailed:
        return EditableLines((_NO_LOCATION,), location, file_url)
    return EditableLines((), requirement, requirement)

"""One logical line of a requirements file, read the way pip 26.3 reads it (`req/req_file.py`).

Pure text work: physical lines split with `str.splitlines` (pip's own split), `\\`
continuations joined, comments stripped (`#` at line start or after whitespace), options
parsed as pip parses them (`options.py`), and the requirement read as `parse_req_from_line` /
`parse_editable` and pip's `Link` read it (egg fragments, wheel file names), refusing what they
refuse; what only the disk decides is `RequirementsFile.path_problems`.
"""

from __future__ import annotations

import enum
import functools
import posixpath
import re
import urllib.parse
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename

from venvsyncd.requirements import options as line_options

COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_EGG_RE = re.compile(r"[#&]egg=([^&]*)")
_PROJECT_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_EXTRAS_RE = re.compile(r"^(.+)(\[[^\]]+\])$")
_VCS_SCHEMES = frozenset(
    [f"git+{s}" for s in ("http", "https", "ssh", "git", "file")]
    + [f"hg+{s}" for s in ("file", "http", "https", "ssh", "static-http")]
    + [f"svn+{s}" for s in ("ssh", "http", "https", "svn", "file")]
    + [f"bzr+{s}" for s in ("http", "https", "ssh", "sftp", "ftp", "lp", "file")]
)
_URL_SCHEMES = _VCS_SCHEMES | {"http", "https", "file", "ftp"}
_ARCHIVES: tuple[str, ...] = (".zip", ".whl", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tlz")
_ARCHIVES += (".tar.lz", ".tar.lzma", ".tar.gz", ".tgz", ".tar")
_NOT_EDITABLE = "not a valid editable requirement: it must be a local project folder or a VCS URL"


class LineKind(enum.StrEnum):
    BLANK = "blank"
    COMMENT = "comment"
    OPTION = "option"
    REQUIREMENT = "requirement"
    UNPARSABLE = "unparsable"


@dataclass(frozen=True)
class ReqLine:
    """One logical line: its exact text (all physical lines, with their endings) and meaning.

    `text` is what pip acts on (joined, comment stripped, trimmed). For requirements, `name`
    is canonical, or None for a bare URL or path whose name pip must find out.
    """

    raw: str
    lineno: int
    kind: LineKind
    text: str = ""
    comment: str | None = None
    options: tuple[line_options.LineOption, ...] = ()
    name: str | None = None
    raw_name: str | None = None
    extras: frozenset[str] = frozenset()
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    marker: Marker | None = None
    url: str | None = None
    editable: bool = False
    hashes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def physical(self) -> list[str]:
        """The physical lines, each with its own line ending."""
        return self.raw.splitlines(keepends=True)

    def applies(self, marker_env: dict[str, str] | None) -> bool:
        """Does pip act on this line in that environment (None: this interpreter's)?"""
        if self.marker is None:
            return True
        try:
            return self.marker.evaluate(marker_env)
        except (ValueError, LookupError):  # an undefined comparison or name: pip fails too
            return False


class _Parts(NamedTuple):
    """What a requirement string names (see `ReqLine`)."""

    name: str | None
    raw_name: str | None
    extras: frozenset[str]
    specifier: SpecifierSet
    marker: Marker | None
    url: str | None
    error: str | None = None  # why pip refuses a requirement it reads


def logical_lines(text: str) -> list[tuple[int, str, str]]:
    """Group physical lines into pip's logical lines: (first line number, raw, joined text)."""
    out: list[tuple[int, str, str]] = []
    raws: list[str] = []
    parts: list[str] = []
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        content = split_ending(raw)[0]
        is_comment = COMMENT_RE.match(content) is not None
        raws.append(raw)
        if content.endswith("\\") and not is_comment:
            parts.append(content.strip("\\"))
        else:
            parts.append(" " + content if is_comment else content)
            out.append((number + 1 - len(raws), "".join(raws), "".join(parts)))
            raws, parts = [], []
    if raws:  # the file ends inside a continuation: pip joins what it has
        out.append((len(text.splitlines()) + 1 - len(raws), "".join(raws), "".join(parts)))
    return out


def split_ending(physical: str) -> tuple[str, str]:
    """A physical line as (content, line ending); the ending is "" on a last line without one."""
    lines = physical.splitlines()
    content = lines[0] if lines else ""
    return content, physical[len(content) :]


def parse_line(lineno: int, raw: str, joined: str) -> ReqLine:
    """The meaning of one logical line (see `logical_lines`). Short lines' are kept: a file
    is read again after each edit of it, and most of its lines are as they were."""
    return (_parse_line if len(raw) > 1000 else _kept_line)(lineno, raw, joined)


def _parse_line(lineno: int, raw: str, joined: str) -> ReqLine:
    match = COMMENT_RE.search(joined)
    comment = match.group(0).strip() if match else None
    text = COMMENT_RE.sub("", joined).strip()
    if not text:
        kind = LineKind.COMMENT if comment else LineKind.BLANK
        return ReqLine(raw, lineno, kind, comment=comment)
    base = ReqLine(raw, lineno, LineKind.UNPARSABLE, text=text, comment=comment)
    try:
        return _parse_meaning(base)
    except ValueError as exc:  # packaging's Invalid* errors and OptionError are ValueErrors
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
    except RecursionError:  # a marker of thousands of nested parentheses
        reason = "nested too deeply to read"
    shown = text if len(text) <= 200 else text[:200] + "..."
    return replace(base, error=f"{shown!r}: {reason}")


_kept_line = functools.lru_cache(maxsize=8192)(_parse_line)


def _parse_meaning(base: ReqLine) -> ReqLine:
    args, option_text = line_options.split_args_options(base.text)
    options = line_options.parse_options(option_text)
    editables = [value for flag, value in options if flag == "--editable"]
    hashes = tuple(value or "" for flag, value in options if flag == "--hash")
    if not args and not editables:
        return replace(base, kind=LineKind.OPTION, options=options, hashes=hashes)
    requirement = args or editables[0] or ""
    parts = _parse_editable(requirement) if editables else _parse_requirement(requirement)
    kind, editable = LineKind.REQUIREMENT, bool(editables)
    return replace(
        base, kind=kind, options=options, editable=editable, hashes=hashes, **parts._asdict()
    )


def is_url(text: str) -> bool:
    """pip's `is_url`: http, https, file, ftp or a VCS scheme (`git+https`, ...)."""
    try:
        return _scheme(text) in _URL_SCHEMES
    except ValueError:  # pip's own `is_url` fails on it; the line parser reports that
        return False


def _scheme(text: str) -> str:
    """The URL scheme, lowercased; ValueError when urllib cannot split it (`http://[x`)."""
    return urllib.parse.urlsplit(text).scheme.lower()


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.startswith(".")


def is_archive(path: str) -> bool:
    """pip's `is_archive_file`: the name of a wheel, a zip or a tarball."""
    return _extension(path) in _ARCHIVES


def _extension(path: str) -> str:
    """pip's `splitext`: `.tar.gz` is one extension, a bare `.whl` has none."""
    base, ext = posixpath.splitext(path)
    if base.lower().endswith(".tar"):
        ext = base[-4:] + ext
    return ext.lower()


def _parse_requirement(text: str) -> _Parts:
    """pip's `parse_req_from_line`, minus the filesystem checks."""
    url_like = _scheme(text) in _URL_SCHEMES
    body, sep, marker_text = text.partition("; " if url_like else ";")
    marker = Marker(marker_text.strip()) if sep and marker_text.strip() else None
    body = body.strip()
    if url_like:
        return _by_url(body, frozenset(), marker, _link_name(body))
    at_prefix, at, _rest = body.partition("@")
    pep508_at = bool(at) and not _looks_like_path(at_prefix)
    path, extras = _strip_extras(body)
    if not pep508_at and (_looks_like_path(body) or is_archive(path)):
        return _by_url(path, extras, marker, _wheel_name(path))
    req = Requirement(body)
    error = None if req.url is None else _wheel_problem(req.name, req.url)
    extras, url = frozenset(req.extras), req.url
    return _Parts(canonicalize_name(req.name), req.name, extras, req.specifier, marker, url, error)


def _by_url(url: str, extras: frozenset[str], marker: Marker | None, name: str | None) -> _Parts:
    return _Parts(
        canonicalize_name(name) if name else None, name, extras, SpecifierSet(), marker, url
    )


def _parse_editable(text: str) -> _Parts:
    """pip's `parse_editable`: `name @ url`, a local path, or a VCS URL with `#egg=`."""
    if not text.strip():
        raise InvalidRequirement("-e needs a local path or a VCS URL")
    try:
        req = Requirement(text)
    except InvalidRequirement:
        req = None
    if req is not None and req.url:
        _egg_name(req.url)  # pip's `Link` reads only the egg fragment of an editable's URL
        if _scheme(req.url) not in _VCS_SCHEMES and not req.url.startswith("file:"):
            raise InvalidRequirement(_NOT_EDITABLE)
        return _by_url(req.url, frozenset(req.extras), req.marker, req.name)
    path, extras = _strip_extras(text)
    if path.lower().startswith("file:"):
        return _by_url(path, extras, None, _egg_name(path))
    if len(_scheme(path)) < 2:  # a local path ("C:" is a drive): pip finds the name
        return _by_url(path, extras, None, None)
    for vcs in ("git", "hg", "svn", "bzr"):
        if text.lower().startswith(f"{vcs}:"):
            text = f"{vcs}+{text}"
    egg = _egg_name(text)
    if _scheme(text) not in _VCS_SCHEMES:
        raise InvalidRequirement(_NOT_EDITABLE)
    if egg is None:
        raise InvalidRequirement("a VCS editable needs #egg=name (or write `name @ URL`)")
    return _by_url(text, frozenset(), None, egg)


def _strip_extras(path: str) -> tuple[str, frozenset[str]]:
    match = _EXTRAS_RE.match(path)
    if not match:
        return path, frozenset()
    extras = Requirement(f"placeholder{match.group(2)}").extras
    return match.group(1).rstrip(), frozenset(extras)


def _link_name(url: str) -> str | None:
    """pip's `Link`: the wheel's project, else the egg fragment's (both checked), else None."""
    egg = _egg_name(url)
    return _url_wheel(url) or egg


def _url_wheel(url: str) -> str | None:
    path = urllib.parse.urlsplit(url).path.rstrip("/")  # pip's `Link.filename`
    return _wheel_name(urllib.parse.unquote(path.rsplit("/", 1)[-1]))


def _wheel_problem(name: str, url: str) -> str | None:
    """Why pip, resolving `name @ URL`, refuses it: a bad URL or wheel, or another's wheel."""
    _egg_name(url)  # a bad egg fragment pip's line parser refuses already
    try:
        wheel = _url_wheel(url)
    except ValueError as exc:
        return f"pip cannot install from the URL: {exc}"
    if wheel is None or canonicalize_name(wheel) == canonicalize_name(name):
        return None
    return f"the wheel in the URL is of project {wheel!r}, not {name!r}"


def _wheel_name(path: str) -> str | None:
    """The project of a wheel's file (pip refuses an invalid wheel file name); else None."""
    filename = path.replace("\\", "/").rsplit("/", 1)[-1]
    if _extension(filename) != ".whl":
        return None
    parse_wheel_filename(filename)
    name = filename.split("-", 1)[0]
    if not _PROJECT_NAME_RE.match(name):  # pip reads the wheel as `name==version`
        raise InvalidRequirement(f"{name!r} is not a valid project name")
    return name


def _egg_name(url: str) -> str | None:
    """pip's `Link._egg_fragment`: `#egg=` (or `&egg=`) must be a project name alone."""
    match = _EGG_RE.search(url)
    if not match or _PROJECT_NAME_RE.match(match.group(1)):
        return match.group(1) if match else None
    fragment = match.group(1)
    why = "it can only be a project name"
    if "[" in fragment and "]" in fragment:
        why = "write extras as `name[extra] @ URL`"
    if any(c in fragment for c in "<=>"):
        why = "pip ignores version specifiers in a URL; remove them"
    raise InvalidRequirement(f"the egg fragment {fragment!r} is invalid: {why}")

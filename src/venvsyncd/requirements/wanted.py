"""What a requirements file asks for, reduced to what the planner needs, and when it is met.

Pure, and pip's rules: a named requirement is satisfied when the installed version is in its
specifier (pre-releases allowed); a false marker asks for nothing; URL, VCS and editable
requirements are pip's to judge, so they are only "satisfied" when the same source is
installed (pip's `req_install.check_if_exists` and `SpecifierSet.contains(prereleases=True)`).

A line's own options reach the installer with it (`Wanted.args`, as `--flag=value` after the
requirement): `--no-binary`/`--only-binary` (pip and uv take them on the command line, where
they mean what they mean on a file's line: the install's format control), `--config-settings`
and `--hash`. pip scopes those two to their line only in a requirements file (it has no
`--hash` option, and its `--config-settings` applies to every requirement named on the
command line), so `installer_args` hands such lines to pip as a temporary requirements file;
uv reads `--hash` only in a file too, and takes `--config-settings-package NAME:KEY=VALUE`.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple, TypeGuard

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from venvsyncd.env.dists import FrozenDist
from venvsyncd.requirements.file import ReqLine, RequirementsFile
from venvsyncd.requirements.line import is_url

# Never uninstalled by venvsyncd, whatever the file says.
PROTECTED = frozenset({"pip", "setuptools", "wheel", "venvsyncd"})
# A requirement line's options that act on its install (pip 26.3 `req_file.py`: the
# SUPPORTED_OPTIONS_REQ, and the format control any line sets); an editable takes no hash.
_LINE_OPTIONS = ("--no-binary", "--only-binary", "--config-settings", "--hash")
_EDITABLE_OPTIONS = ("--no-binary", "--only-binary", "--config-settings")
# Those pip scopes to their own line only when it reads them in a requirements file.
_FILE_SCOPED = ("--config-settings=", "--hash=")


class Wanted(NamedTuple):
    """One requirement line of the file (or an included file), as the planner sees it."""

    key: str  # canonical name, or the URL/path text when the line names no package
    name: str | None  # canonical name
    args: tuple[str, ...]  # what to hand to the installer for this line
    specifier: str = ""
    marker: str | None = None
    url: str | None = None
    editable: bool = False
    extras: tuple[str, ...] = ()


@lru_cache(maxsize=4096)
def _specifier(text: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


@lru_cache(maxsize=4096)
def _marker(text: str) -> Marker | None:
    try:
        return Marker(text)
    except InvalidMarker:
        return None


def applies(wanted: Wanted, marker_env: Mapping[str, str]) -> bool:
    """False when the line's marker is false for the venv (it then asks for nothing)."""
    if wanted.marker is None:
        return True
    marker = _marker(wanted.marker)
    return True if marker is None else marker.evaluate(dict(marker_env))


def _same_url(wanted: Wanted, dist: FrozenDist) -> bool:
    if dist.url is None or wanted.url is None:
        return False
    return dist.url.split("#")[0].rstrip("/") == wanted.url.split("#")[0].rstrip("/")


def satisfied(
    wanted: Wanted, installed: Mapping[str, FrozenDist], marker_env: Mapping[str, str]
) -> bool:
    """Would `pip install` of this line change nothing in the venv?"""
    if not applies(wanted, marker_env):
        return True
    if wanted.name is None:
        return any(_same_url(wanted, dist) for dist in installed.values())
    dist = installed.get(wanted.name)
    if dist is None:
        return False
    if wanted.url is not None or wanted.editable:
        return _same_url(wanted, dist) and dist.editable == wanted.editable
    spec = _specifier(wanted.specifier)
    return spec is None or spec.contains(dist.version, prereleases=True)


def installed_for(wanted: Wanted, installed: Mapping[str, FrozenDist]) -> FrozenDist | None:
    """The installed distribution a line stands for (by name, else by source URL)."""
    if wanted.name is not None:
        return installed.get(wanted.name)
    return next((d for d in installed.values() if _same_url(wanted, d)), None)


def requirement_text(line: ReqLine, url: str | None = None) -> str:
    """A named line as one PEP 508 string for the installer (options and hashes left out).

    `url` stands in for the line's own URL (an absolute `file:` URL for a relative path).
    """
    assert line.raw_name is not None
    text = line.raw_name + _extras(line)
    url = url or line.url
    text += f" @ {url}" if url is not None else str(line.specifier)
    if line.marker is not None:
        text += f" ; {line.marker}"
    return text


def _install_args(line: ReqLine, location: str | None) -> tuple[str, ...]:
    """What the installer is handed for one line (`location` as `RequirementsFile.location`).

    A URL goes whole: its fragment (`#egg=`, `&subdirectory=`, `#sha256=`) is for the
    installer, though `location` drops it to compare sources. A local path, relative to the
    requirements file's folder, goes as an absolute path (a `file:` URL after a name).
    """
    return _requirement_args(line, location) + tuple(
        f"{flag}={value}"
        for flag, value in line.options
        if flag in (_EDITABLE_OPTIONS if line.editable else _LINE_OPTIONS)
    )


def _requirement_args(line: ReqLine, location: str | None) -> tuple[str, ...]:
    if line.editable:
        return ("-e", _local(location, line) if _is_file(location) else _editable_target(line))
    if line.name is not None:
        path_line = line.url is not None and not is_url(line.url)
        return (requirement_text(line, location if path_line and _is_file(location) else None),)
    url = line.url or line.text
    if is_url(url) and ("#" in url or not _is_file(url)):
        return (url,)
    return (_local(location or url, line),)


# wanted_from of the files modelled last, by the model's identity (requirements/file.py keeps
# the models of the texts parsed last, so a text read again is the same model)
_WANTED: dict[int, tuple[RequirementsFile, tuple[Wanted, ...]]] = {}
_WANTED_LIMIT = 64
_wanted_lock = threading.Lock()


def wanted_from(req: RequirementsFile) -> list[Wanted]:
    """The requirement lines of one file (not its includes), as planner values."""
    with _wanted_lock:
        kept = _WANTED.get(id(req))
    if kept is not None and kept[0] is req:
        return list(kept[1])
    found = _wanted_from(req)
    with _wanted_lock:
        while len(_WANTED) >= _WANTED_LIMIT:
            del _WANTED[next(iter(_WANTED))]  # the oldest
        _WANTED[id(req)] = (req, tuple(found))
    return found


def _wanted_from(req: RequirementsFile) -> list[Wanted]:
    found = []
    for line in req.requirements():
        location = req.location(line)
        found.append(
            Wanted(
                key=line.name or location or line.text,
                name=line.name,
                args=_install_args(line, location),
                specifier=str(line.specifier),
                marker=None if line.marker is None else str(line.marker),
                url=location,
                editable=line.editable,
                extras=tuple(sorted(line.extras)),
            )
        )
    return found


def _extras(line: ReqLine) -> str:
    return "[" + ",".join(sorted(line.extras)) + "]" if line.extras else ""


def _is_file(text: str | None) -> TypeGuard[str]:
    return text is not None and text.lower().startswith("file:")


def _local(source: str, line: ReqLine) -> str:
    """A local source (`file:` URL, else a path as written) as a path with the line's extras."""
    return (_file_path(source) if _is_file(source) else source) + _extras(line)


def _editable_target(line: ReqLine) -> str:
    """A VCS editable's target as the line wrote it (`git+URL#egg=name`, `name @ git+URL`)."""
    written = next((value for flag, value in line.options if flag == "--editable"), None)
    return written or line.url or line.text


def _file_path(uri: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(uri).path)


class InstallerArgs(NamedTuple):
    """What an installer is handed for some lines: arguments for its command line, and the
    lines of a temporary requirements file to hand it as `-r FILE` (none: no file)."""

    argv: tuple[str, ...]
    file_lines: tuple[str, ...] = ()


def installer_args(install: Sequence[Wanted], installer: str) -> InstallerArgs:
    """`install`'s lines for "pip" or "uv" (see the module's docstring).

    pip gets every line in the file once one needs it: a `--hash` puts pip in hash-checking
    mode for the whole install, as the user's file would, and their format control is the
    same from a file's line as from the command line.
    """
    if installer == "uv":
        return _uv_args(install)
    if any(arg.startswith(_FILE_SCOPED) for w in install for arg in w.args):
        return InstallerArgs((), tuple(requirements_line(w.args) for w in install))
    return InstallerArgs(tuple(arg for w in install for arg in w.args))


def _uv_args(install: Sequence[Wanted]) -> InstallerArgs:
    argv: list[str] = []
    lines: list[str] = []
    for wanted in install:
        head, options = _split_args(wanted.args)
        hashes = tuple(o for o in options if o.startswith("--hash="))
        if hashes:
            lines.append(requirements_line(head + hashes))
        else:
            argv += head
        argv += [_uv_option(wanted, o) for o in options if not o.startswith("--hash=")]
    return InstallerArgs(tuple(argv), tuple(lines))


def _uv_option(wanted: Wanted, option: str) -> str:
    """uv scopes a build setting to a package by name (`--config-settings-package`)."""
    setting = option.removeprefix("--config-settings=")
    if setting == option or wanted.name is None:
        return option
    return f"--config-settings-package={wanted.name}:{setting}"


def _split_args(args: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A line's args as (the requirement or `-e TARGET`, its `--flag=value` options)."""
    size = 2 if args[:1] == ("-e",) else 1
    return args[:size], args[size:]


def requirements_line(args: tuple[str, ...]) -> str:
    """A line's args as a requirements-file line: the requirement as written (pip reads it
    unsplit), options and an editable's target quoted for pip's shlex split."""
    head, options = _split_args(args)
    written = head[0] if len(head) == 1 else f"-e {shlex.quote(head[1])}"
    return " ".join([written, *(shlex.quote(option) for option in options)])


def asks_for_source(wanted: Wanted) -> bool:
    """Does the line's own `--no-binary` (its name, or `:all:`) make the installer build it
    from source? Such an install is not wheels-only, whatever flags come before it."""
    for arg in wanted.args:
        if arg.startswith("--no-binary="):
            names = {canonicalize_name(n) for n in arg.removeprefix("--no-binary=").split(",")}
            if ":all:" in names or wanted.name in names:
                return True
    return False

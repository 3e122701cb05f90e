"""A lossless model of a requirements file: every byte kept, every line understood as pip would.

`parse_requirements` is pure; `load_requirements` reads a file and its `-r`/`-c` includes.
`RequirementsFile.to_bytes()` of an unedited parse gives back exactly the bytes read, in the
encoding they were read in (`encoding.py`: UTF-8, UTF-16 or UTF-32, with or without a BOM).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from venvsyncd.errors import ProjectError
from venvsyncd.requirements.encoding import UTF8, UTF8_BOM, Encoding, decode
from venvsyncd.requirements.line import (
    LineKind,
    ReqLine,
    is_archive,
    is_url,
    logical_lines,
    parse_line,
)

__all__ = [
    "Encoding",
    "Include",
    "LineKind",
    "ReqLine",
    "RequirementsFile",
    "load_requirements",
    "parse_requirements",
    "parse_text",
]

_NEWLINES = ("\r\n", "\n", "\r")
MAX_FILE_BYTES = 1024 * 1024  # far above any real requirements file; 10 MB takes 10 s to parse
MAX_INCLUDE_DEPTH = 100  # -r/-c levels; Python's own recursion limit is not far beyond
# Option lines that steer `pip install` itself (the rest are includes, editables, hashes).
_INSTALL_FLAGS = frozenset(
    {"--index-url", "--extra-index-url", "--no-index", "--find-links", "--no-binary"}
    | {"--only-binary", "--prefer-binary", "--require-hashes", "--no-require-hashes", "--pre"}
    | {"--all-releases", "--only-final", "--trusted-host", "--use-feature"}
)


class Include(NamedTuple):
    """A `-r`/`-c` line: the target as written and, unless it is a URL, the file it names."""

    target: str
    path: Path | None
    constraint: bool
    lineno: int


@dataclass(frozen=True)
class RequirementsFile:
    """A requirements file as logical lines, stored in `encoding`; `constraint` when it was
    read through `-c`."""

    source: Path
    lines: tuple[ReqLine, ...]
    encoding: Encoding = UTF8
    constraint: bool = False

    def to_bytes(self) -> bytes:
        return self.encoding.encode("".join(line.raw for line in self.lines))

    @property
    def text(self) -> str:
        """The decoded file, its BOM (if any) as U+FEFF: the same text for the same content
        in UTF-8 or UTF-16 (what snapshots keep)."""
        return ("\ufeff" if self.encoding.bom else "") + "".join(line.raw for line in self.lines)

    @property
    def bom(self) -> bool:
        return bool(self.encoding.bom)

    @property
    def newline(self) -> str:
        """The first line ending in the file (`\\r\\n`, `\\n` or `\\r`), else `\\n`."""
        for line in self.lines:
            for physical in line.physical:
                for ending in _NEWLINES:
                    if physical.endswith(ending):
                        return ending
        return "\n"

    def requirements(self) -> list[ReqLine]:
        return [line for line in self.lines if line.kind is LineKind.REQUIREMENT]

    def problems(self) -> list[tuple[int, str]]:
        """(line number, message) for each line pip refuses whatever the disk holds: lines it
        cannot read or install from, and in a constraints file the forms it takes only as
        requirements."""
        found = [(line.lineno, line.error) for line in self.lines if line.error is not None]
        if self.constraint:  # pip's `check_invalid_constraint_type`, markers not looked at
            found += [
                (line.lineno, why) for line in self.requirements() if (why := _no_constraint(line))
            ]
        return sorted(found)

    def path_problems(self) -> list[tuple[int, str]]:
        """(line number, message) for each local path pip refuses as the disk is now: one that
        does not exist, a folder that is no Python project, a file that is no package archive,
        an editable that is no folder. Paths are taken from the file's folder, as venvsyncd
        installs them (pip takes them from its working folder); messages do not quote them."""
        return [
            (line.lineno, why)
            for line in self.requirements()
            if line.url is not None
            and not is_url(line.url)
            and (why := _path_problem(line, Path(os.path.normpath(self.source.parent / line.url))))
        ]

    def options(self) -> list[str]:
        """The file's own install options as argv for `pip install` (`--index-url URL`, ...)."""
        argv: list[str] = []
        for line in self.lines:
            if line.kind is not LineKind.OPTION:
                continue
            for flag, value in line.options:
                if flag not in _INSTALL_FLAGS:
                    continue
                argv.append(flag)
                if value is not None:
                    argv.append(self._find_links_value(value) if flag == "--find-links" else value)
        return argv

    def _find_links_value(self, value: str) -> str:
        """A relative find-links path is relative to this file's folder, as pip looks first."""
        if is_url(value) or Path(value).is_absolute():
            return value
        return os.path.normpath(self.source.parent / value)

    def includes(self) -> list[Include]:
        """The `-r` and `-c` lines, first of each line as pip takes it, resolved to paths."""
        found: list[Include] = []
        for line in self.lines:
            if line.kind is not LineKind.OPTION:
                continue
            nested = [v for f, v in line.options if f == "--requirement"]
            constraint = not nested
            nested = nested or [v for f, v in line.options if f == "--constraint"]
            if nested and nested[0] is not None:
                target = nested[0]
                found.append(Include(target, self._resolve(target), constraint, line.lineno))
        return found

    def _resolve(self, target: str) -> Path | None:
        if is_url(target):
            return None
        return Path(os.path.normpath(self.source.parent / target))

    def has_hashes(self) -> bool:
        return any(line.hashes for line in self.lines)

    def sorted_requirements(self) -> bool:
        """Are the named requirements in order of canonical name (comments, options ignored)?"""
        names = [line.name for line in self.requirements() if line.name is not None]
        return names == sorted(names)

    def location(self, line: ReqLine) -> str | None:
        """Where a URL, path or editable line installs from, comparable with a dist's URL.

        A URL loses its fragment (`#egg=`, `#sha256=`); a relative path is taken from this
        file's folder and becomes a `file://` URL. None for a requirement by name only.
        """
        if line.url is None:
            return None
        if is_url(line.url):
            return line.url.split("#", 1)[0]
        path = Path(os.path.normpath(self.source.parent / line.url))
        return path.as_uri() if path.is_absolute() else line.url


def _no_constraint(line: ReqLine) -> str | None:
    if line.editable:
        return "editable requirements are not allowed as constraints"
    if line.name is None:
        return "unnamed requirements are not allowed as constraints"
    return "constraints cannot have extras" if line.extras else None


def _path_problem(line: ReqLine, path: Path) -> str | None:
    """pip's `parse_editable` and `_get_url_from_path`, and what its build then needs."""
    if path.is_dir():
        if (path / "pyproject.toml").is_file() or (path / "setup.py").is_file():
            return None
        return "the folder it names is not installable: neither setup.py nor pyproject.toml"
    if line.editable:
        return "not a valid editable requirement: it names no folder (nor a VCS URL)"
    if is_archive(line.url or ""):
        return None if path.is_file() else "it looks like a file name, but the file does not exist"
    if path.is_file():
        return "it names a file that is no package archive (include a requirements file with -r)"
    return "it looks like a path, but the file does not exist"


def parse_requirements(data: bytes, source: Path) -> RequirementsFile:
    """Model `data`, the bytes of the requirements file `source` (named in errors only)."""
    text, encoding = decode(data, source)
    return _parse(text, encoding, source)


def parse_text(text: str, source: Path) -> RequirementsFile:
    """Model a kept text (`RequirementsFile.text`, a snapshot's: a BOM as U+FEFF) without
    going through bytes; its `to_bytes` is UTF-8 (with the BOM if it had one)."""
    bom = text.startswith("\ufeff")
    return _parse(text.removeprefix("\ufeff"), UTF8_BOM if bom else UTF8, source)


# A sync parses a text several times: the models of the last 32 (up to 256 KiB) are kept.
_PARSED: dict[tuple[str, Encoding, Path], RequirementsFile] = {}
_parsed_lock = threading.Lock()


def _parse(text: str, encoding: Encoding, source: Path) -> RequirementsFile:
    key = (text, encoding, source)
    with _parsed_lock:
        found = _PARSED.get(key)
    if found is not None:
        return found
    lines = tuple(parse_line(number, raw, joined) for number, raw, joined in logical_lines(text))
    parsed = RequirementsFile(source, lines, encoding)
    if len(text) <= 256 * 1024:
        with _parsed_lock:
            while len(_PARSED) >= 32:
                del _PARSED[next(iter(_PARSED))]  # the oldest
            _PARSED[key] = parsed
    return parsed


def load_requirements(path: Path) -> tuple[RequirementsFile, list[RequirementsFile]]:
    """Read `path` and, recursively, the files it includes with `-r` and `-c`.

    Returns the file and its includes (depth first, each file once per kind). A file that
    includes itself, directly or not, is an error, as it is for pip.
    """
    main = parse_requirements(_read(path, None), path)
    found: list[RequirementsFile] = []
    _load_includes(main, (_key(path),), found)
    return main, found


def _load_includes(
    parent: RequirementsFile, stack: tuple[Path, ...], found: list[RequirementsFile]
) -> None:
    for include in parent.includes():
        where = f"{parent.source} line {include.lineno}"
        if include.path is None:
            raise ProjectError(
                f"{where} includes a URL ({include.target}); venvsyncd reads local files only",
                hint="download the file next to the requirements file and include it by path",
            )
        if "\0" in include.target:
            raise ProjectError(
                f"{where} names a file with a NUL byte in its name",
                hint="fix the -r/-c line: no file name holds a NUL byte",
            )
        key = _key(include.path)
        if len(stack) >= MAX_INCLUDE_DEPTH:
            raise ProjectError(
                f"{where} includes {include.path}: files include each other more than "
                f"{MAX_INCLUDE_DEPTH} deep",
                hint="flatten the -r/-c chain; venvsyncd reads at most that many levels",
            )
        if key in stack:
            raise ProjectError(
                f"{where} includes {include.path}, which includes {parent.source} again",
                hint="remove one of the -r/-c lines that form the loop",
            )
        if any(_key(f.source) == key and f.constraint == include.constraint for f in found):
            continue
        nested = parse_requirements(_read(include.path, where), include.path)
        if include.constraint:
            nested = replace(nested, constraint=True)
        found.append(nested)
        _load_includes(nested, (*stack, key), found)


def _key(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _read(path: Path, included_from: str | None) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if included_from is None:
            raise ProjectError(
                f"cannot read requirements file {path}: {reason}",
                hint="check that the file exists and is readable",
            ) from exc
        raise ProjectError(
            f"{included_from} includes {path}, which cannot be read: {reason}",
            hint="fix the -r/-c line or create the file it names",
        ) from exc
    if len(data) > MAX_FILE_BYTES:
        what = f"{path} is" if included_from is None else f"{included_from} includes {path},"
        raise ProjectError(
            f"{what} too large for a requirements file (over {MAX_FILE_BYTES >> 20} MB); "
            "venvsyncd left it alone",
            hint="point venvsyncd at the real requirements file (`requirements` in the config)",
        )
    return data

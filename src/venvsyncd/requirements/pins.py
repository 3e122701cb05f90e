"""How a pinned requirement line's text moves to another version, every other character kept.
Pure; used by the editor (`edit.py`) and for hash-pinned lines (`hashed.py`)."""

from __future__ import annotations

import re
import shlex

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from venvsyncd.requirements.file import ReqLine
from venvsyncd.requirements.line import COMMENT_RE, split_ending

# The name and extras as written at the start of a requirement line.
_HEAD_RE = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*(?:\s*\[[^\]]*\])?")
# Where a specifier written after the name ends: marker, continuation, comment or option.
_SPEC_END_RE = re.compile(r";|\\|\s#|\s-")
_SPACED_OPERATOR_RE = re.compile(r"(?:~=|===?|!=|<=|>=|<|>)\s+\S")


def satisfied(specifier: SpecifierSet, version: str) -> bool:
    """pip's test (see `wanted.satisfied`); a non-PEP 440 version only meets `===` itself."""
    try:
        return specifier.contains(version, prereleases=True)
    except InvalidVersion:
        return any(s.operator == "===" and s.version == version for s in specifier)


def comment_tail(line: ReqLine) -> str:
    """The inline comment with the whitespace before it, as written (or "")."""
    for physical in line.physical:
        match = COMMENT_RE.search(split_ending(physical)[0])
        if match and match.start() > 0:
            return match.group(0)
    return ""


def repinned(line: ReqLine, version: str) -> str:
    """`line` with its specifier moved to `version`; every other character kept."""
    first, *rest = line.physical
    content, ending = split_ending(first)
    span = _specifier_span(content, line.specifier)
    if span is None:
        return _rebuilt(line, version)
    start, end = span
    moved = _new_specifier(content[start:end], line.specifier, version)
    return content[:start] + moved + content[end:] + ending + "".join(rest)


def _specifier_span(content: str, specifier: SpecifierSet) -> tuple[int, int] | None:
    """Where the specifier is written in this physical line, if it is all there."""
    head = _HEAD_RE.match(content)
    if head is None:
        return None
    stop = _SPEC_END_RE.search(content, head.end())
    region = content[head.end() : stop.start() if stop else len(content)]
    written = region.strip()
    start = head.end() + len(region) - len(region.lstrip())
    try:
        same = SpecifierSet(written.removeprefix("(").removesuffix(")")) == specifier
    except InvalidSpecifier:
        return None
    return (start, start + len(written)) if written and same else None


def _new_specifier(written: str, specifier: SpecifierSet, version: str) -> str:
    """`==version` in the style of `written`; a `==x`/`===x` pin only gets its version replaced."""
    operator = "==" if _is_pep440(version) else "==="
    pin = next(iter(specifier)) if len(specifier) == 1 and "," not in written else None
    if pin is not None and pin.operator in ("==", "===") and operator in pin.operator:
        at = written.rfind(pin.version)
        if at >= 0:
            return written[:at] + version + written[at + len(pin.version) :]
    space = " " if _SPACED_OPERATOR_RE.search(written) else ""
    moved = f"{operator}{space}{version}"
    return f"({moved})" if written.startswith("(") and written.endswith(")") else moved


def _is_pep440(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def _rebuilt(line: ReqLine, version: str) -> str:
    """A one-line requirement for a line whose specifier spans physical lines."""
    extras = f"[{','.join(sorted(line.extras))}]" if line.extras else ""
    operator = "==" if _is_pep440(version) else "==="
    marker = f" ; {line.marker}" if line.marker is not None else ""
    options = "".join(
        f" {flag}" + (f"={shlex.quote(value)}" if value is not None else "")
        for flag, value in line.options
    )
    tail = comment_tail(line) + split_ending(line.physical[-1])[1]
    return f"{line.raw_name}{extras}{operator}{version}{marker}{options}{tail}"

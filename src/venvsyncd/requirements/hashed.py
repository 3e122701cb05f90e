"""Hash-pinned lines: a moved pin with the new release's hashes, a new pin with its own, both
in the layout the file already uses. Pure.

pip-compile `--generate-hashes` writes each pin as `name==1.0 \\`, then one indented
`--hash=sha256:...` per file of the release, joined by ` \\` continuations; other tools put
the hashes on the requirement's own line. `separator` reads which from the file's first
hashed line (the text between two hashes, or between the requirement and its only hash), so
that what venvsyncd writes looks like what was there.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import replace

from venvsyncd.requirements.file import ReqLine, RequirementsFile
from venvsyncd.requirements.line import split_ending
from venvsyncd.requirements.pins import comment_tail, repinned

DEFAULT_SEPARATOR = " \\\n    "  # pip-compile's
# A `--hash` option as written: the flag, `=` or blanks, the value.
_HASH_RE = re.compile(r"(?<!\S)--hash(?:=|[ \t]+)[^\s\\]+")
_TRAILING = " \t\r\n\\"  # what joins a requirement to the hashes after it


def separator(req: RequirementsFile) -> str:
    """How `req` joins a pin and its hashes (pip-compile's layout when no line shows it),
    with `req`'s own line ending."""
    for line in req.requirements():
        found = list(_HASH_RE.finditer(line.raw))
        if not found:
            continue
        if len(found) > 1:
            gap = line.raw[found[0].end() : found[1].start()]
        else:
            head = line.raw[: found[0].start()]
            gap = head[len(head.rstrip(_TRAILING)) :]
        if gap and not gap.strip(_TRAILING):
            return gap
    return DEFAULT_SEPARATOR.replace("\n", req.newline)


def new_hashed_line(requirement: str, hashes: Sequence[str], sep: str, newline: str) -> str:
    """A new pin's line: `requirement` (`name==1.0`) and a `--hash=` for each of `hashes`."""
    return requirement + _joined(hashes, sep) + newline


def rehashed(line: ReqLine, version: str, hashes: Sequence[str], sep: str) -> str:
    """`line` pinned to `version` with `hashes` in place of the hashes it had: the
    requirement's text as `pins.repinned` keeps it, options other than `--hash` kept after
    the hashes, its inline comment and its last line ending kept."""
    found = list(_HASH_RE.finditer(line.raw))
    if found:
        head = line.raw[: found[0].start()].rstrip(_TRAILING)
        rest = line.raw[found[0].start() :]
        after: str | None = line.raw[found[-1].end() :]
    else:
        head, rest, after = _without_comment(line), "", None
    others = [(flag, value) for flag, value in line.options if flag != "--hash"]
    kept = [(flag, value) for flag, value in others if _written(rest, flag)]
    bare = replace(line, raw=head, options=tuple(o for o in others if o not in kept))
    options = "".join(
        f" {flag}" + ("" if value is None else f"={shlex.quote(value)}") for flag, value in kept
    )
    moved = _without_comment(replace(bare, raw=repinned(bare, version)))
    if after is not None and not kept and after.lstrip(_TRAILING)[:1] in ("", "#"):
        return moved + _joined(hashes, sep) + after  # its ending, or a comment (`# via`) line
    ending = split_ending(line.physical[-1])[1]
    return moved + _joined(hashes, sep) + options + comment_tail(line) + ending


def _joined(hashes: Sequence[str], sep: str) -> str:
    return "".join(f"{sep}--hash={digest}" for digest in hashes)


def _written(text: str, flag: str) -> bool:
    """Is the option `flag` (pip's long name) written in `text`, in any of its spellings?"""
    spellings = {"--config-settings": ("--config-settings", "-C")}.get(flag, (flag,))
    return any(re.search(rf"(?<!\S){re.escape(s)}(?![\w-])", text) for s in spellings)


def _without_comment(line: ReqLine) -> str:
    """The line's text up to its inline comment and its ending (`repinned` may bring both
    back from a line it rebuilds)."""
    text = line.raw
    tail = comment_tail(line)
    if tail and tail in text:
        text = text[: text.index(tail)]
    return text.rstrip(_TRAILING)

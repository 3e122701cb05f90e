"""Edit the config file's text for `add` and `remove`, keeping every byte outside the edit.

The edits are line based: a `[[project]]` table is appended at the end, or cut out from its
header to the next table header. A small scanner tells real header and comment lines from
look-alikes inside multi-line strings and multi-line arrays.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import tomli_w

from venvsyncd.config import parse_config
from venvsyncd.errors import ConfigError, VenvsyncdError
from venvsyncd.system.files import atomic_write

_PROJECT_HEADER = re.compile(r"""[ \t]*\[\[[ \t]*(project|"project"|'project')[ \t]*\]\]""")
_SCALARS = (str, bool, int, float)


def add_project(text: str, table: Mapping[str, object]) -> str:
    """`text` with a `[[project]]` table for `table` appended, after one blank line.

    The existing bytes are kept; a missing final newline is added. The new lines use the
    file's newline style (that of its first line).
    """
    for key, value in table.items():
        if not isinstance(value, _SCALARS):
            raise TypeError(f"project key {key!r}: {type(value).__name__} is not a scalar")
    # Not tomli_w.dumps({"project": [table]}): that writes a short table inline, as
    # `project = [{...}]`, which cannot follow other [[project]] tables or a [section].
    rendered = "[[project]]\n" + tomli_w.dumps(dict(table))
    newline = _newline(text)
    if text and not text.endswith("\n"):
        text += newline
    if text:
        text += newline
    return text + rendered.replace("\n", newline)


def remove_project(text: str, index: int) -> str:
    """`text` without its `index`-th (0-based) `[[project]]` table; other bytes are kept.

    The table runs from its header line to the next table header (or the end), less the
    comment lines attached to that next header. One blank separator line goes with it: the
    one before its header when there is one (`add_project` puts it there), else its own
    trailing blank lines when it starts the file. So `remove_project(add_project(t, x), n)
    == t` for a `t` that ends with a newline and holds `n` projects.
    """
    lines = _split_lines(text)
    top = _starts_at_top_level(lines)
    headers = [i for i, line in enumerate(lines) if top[i] and _is_header(line)]
    projects = [i for i in headers if _PROJECT_HEADER.match(lines[i])]
    _check_all_projects_are_tables(text, len(projects))
    if not 0 <= index < len(projects):
        raise IndexError(f"project index {index} out of range (the config has {len(projects)})")
    start = projects[index]
    end = next((h for h in headers if h > start), len(lines))
    if end < len(lines):
        while end - 1 > start and top[end - 1] and _is_comment(lines[end - 1]):
            end -= 1
    if start > 0:  # keep the blank lines that part what is above from what follows
        while end - 1 > start and top[end - 1] and _is_blank(lines[end - 1]):
            end -= 1
        if _is_blank(lines[start - 1]):
            start -= 1
    return "".join(lines[:start] + lines[end:])


def save_config_text(path: Path, text: str) -> None:
    """Check `text` is a valid config, then write it to `path` atomically (folder created)."""
    parse_config(text, path)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(
            f"{path}: the new config holds text that is not valid UTF-8",
            hint="give paths that can be written as UTF-8",
        ) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
    except OSError as exc:
        raise VenvsyncdError(
            f"{path}: cannot be written ({exc.strerror})",
            hint="check the folder's permissions, or pass another file with --config",
        ) from None


def _check_all_projects_are_tables(text: str, headers: int) -> None:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(
            f"the config is not valid TOML ({exc})", hint="fix the config file by hand first"
        ) from None
    projects = data.get("project", [])
    if not isinstance(projects, list) or len(projects) != headers:
        raise ConfigError(
            "the config does not write every project as its own [[project]] table",
            hint="edit the file by hand, or rewrite each project as a [[project]] table",
        )


def _newline(text: str) -> str:
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def _split_lines(text: str) -> list[str]:
    """Lines with their endings; "".join() of the result is `text` again."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def _is_header(line: str) -> bool:
    return line.lstrip(" \t").startswith("[")


def _is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def _is_blank(line: str) -> bool:
    return not line.strip(" \t\r\n")


def _starts_at_top_level(lines: list[str]) -> list[bool]:
    """For each line: does it begin outside any multi-line string or multi-line array?"""
    scanner = _Scanner()
    flags: list[bool] = []
    for line in lines:
        at_top = scanner.open_quote is None and scanner.depth == 0
        flags.append(at_top)
        if not (at_top and _is_header(line)):  # a header's brackets open no value
            scanner.feed(line)
    return flags


class _Scanner:
    """Tracks TOML strings, comments and bracket depth across lines, enough to find headers."""

    def __init__(self) -> None:
        self.open_quote: str | None = None  # '"""' or "'''" inside a multi-line string
        self.depth = 0  # open [ and { of values

    def feed(self, line: str) -> None:
        i = 0
        while i < len(line):
            if self.open_quote is not None:
                i = self._close_multiline(line, i, self.open_quote)
                continue
            char = line[i]
            if char == "#":
                return
            if line.startswith(('"""', "'''"), i):
                self.open_quote = line[i : i + 3]
                i += 3
            elif char in "\"'":
                i = _end_of_string(line, i)
            else:
                self.depth = self.depth + 1 if char in "[{" else self.depth
                self.depth = max(0, self.depth - 1) if char in "]}" else self.depth
                i += 1

    def _close_multiline(self, line: str, i: int, quote: str) -> int:
        """Index after the closing quotes at or after `i`, or the line's end if none."""
        while i < len(line):
            if quote == '"""' and line[i] == "\\":
                i += 2
            elif line.startswith(quote, i):
                i += 3
                for _ in range(2):  # up to two more quotes belong to the string
                    i += line.startswith(quote[0], i)
                self.open_quote = None
                return i
            else:
                i += 1
        return len(line)


def _end_of_string(line: str, start: int) -> int:
    """Index after the one-line string opened at `start`."""
    quote = line[start]
    i = start + 1
    while i < len(line):
        if quote == '"' and line[i] == "\\":
            i += 2
        elif line[i] == quote:
            return i + 1
        else:
            i += 1
    return len(line)

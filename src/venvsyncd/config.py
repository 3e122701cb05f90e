"""The config file: load (tomllib) -> validate -> frozen dataclasses.

Every problem is a `ConfigError` naming the file and the key path (`daemon.installer`,
`project[2].mode`, with 1-based project numbers) plus a hint with the allowed values.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from venvsyncd.errors import ConfigError

MODES = ("both", "freeze", "install")
STYLES = ("preserve", "pip")
INITIALS = ("ask", "env", "file")
INSTALLERS = ("pip", "uv", "auto")
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class DaemonSettings:
    settle_seconds: float = 1.0
    installer: str = "auto"
    log_level: str = "info"
    history: int = 100  # replaced versions of each file kept (journal entries)


@dataclass(frozen=True)
class ProjectSettings:
    mode: str = "both"
    style: str = "preserve"
    initial: str = "ask"
    create_venv: bool = True
    python: str = "python3"


@dataclass(frozen=True)
class ProjectEntry:
    path: Path  # absolute, `~` expanded, symlinks not resolved
    venv: str | None  # relative to `path` (None: the first of .venv, venv, env)
    requirements: str | None  # relative to `path` (None: requirements.txt)
    settings: ProjectSettings


@dataclass(frozen=True)
class Config:
    file: Path
    exists: bool
    daemon: DaemonSettings
    defaults: ProjectSettings
    projects: tuple[ProjectEntry, ...]

    def find(self, path: Path) -> ProjectEntry | None:
        """The project configured for `path` (compared as absolute, unresolved paths)."""
        wanted = _path_key(_absolute(path))
        return next((p for p in self.projects if _path_key(p.path) == wanted), None)


@dataclass(frozen=True)
class _Loc:
    """Where a value sits: the file (None for a command-line value) and its key path."""

    file: str | None
    key: str

    def error(self, problem: str, hint: str) -> ConfigError:
        prefix = f"{self.file}: " if self.file is not None else ""
        return ConfigError(f"{prefix}{self.key}: {problem}", hint=hint)

    def child(self, key: str) -> _Loc:
        return _Loc(self.file, f"{self.key}.{_quote_key(key)}" if self.key else _quote_key(key))


_Check = Callable[[object, _Loc], object]


def _choice(allowed: tuple[str, ...]) -> _Check:
    def check(value: object, loc: _Loc) -> object:
        listed = ", ".join(f"'{a}'" for a in allowed)
        hint = f"set {loc.key} to one of: {', '.join(allowed)}"
        if not isinstance(value, str):
            raise loc.error(f"expected a string, one of {listed}, got {_toml_type(value)}", hint)
        if value not in allowed:
            raise loc.error(f"{value[:40]!r} is not one of {listed}", hint)
        return value

    return check


def _boolean(value: object, loc: _Loc) -> object:
    if not isinstance(value, bool):
        raise loc.error(
            f"expected a boolean, got {_toml_type(value)}", f"set {loc.key} to true or false"
        )
    return value


def _seconds(value: object, loc: _Loc) -> object:
    hint = f"set {loc.key} to a number of seconds >= 0, such as 1.0"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise loc.error(f"expected a number, got {_toml_type(value)}", hint)
    try:
        seconds = float(value)
    except OverflowError:
        raise loc.error("is too large", hint) from None
    if not math.isfinite(seconds):
        raise loc.error(f"{value} is not a finite number", hint)
    if seconds < 0:
        raise loc.error(f"{value} is negative", hint)
    return seconds


def _whole_number(low: int, high: int, example: int) -> _Check:
    def check(value: object, loc: _Loc) -> object:
        hint = f"set {loc.key} to a whole number from {low} to {high}, such as {example}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise loc.error(f"expected an integer, got {_toml_type(value)}", hint)
        shown = f"{value} " if abs(value) < 10**15 else ""  # not hundreds of digits
        if value < low:
            raise loc.error(f"{shown}is less than {low}", hint)
        if value > high:
            raise loc.error(f"{shown}is more than {high}", hint)
        return value

    return check


def _string(example: str, optional: bool) -> _Check:
    def check(value: object, loc: _Loc) -> object:
        hint = f"set {loc.key} to a non-empty string, such as {json.dumps(example)}"
        if optional:
            hint += ", or leave it out for the default"
        if not isinstance(value, str):
            raise loc.error(f"expected a string, got {_toml_type(value)}", hint)
        if not value:
            raise loc.error("is an empty string", hint)
        if "\0" in value:
            raise loc.error("contains a NUL character", hint)
        return value

    return check


_DAEMON_CHECKS: dict[str, _Check] = {
    "settle_seconds": _seconds,
    "installer": _choice(INSTALLERS),
    "log_level": _choice(LOG_LEVELS),
    "history": _whole_number(1, 100_000, 100),
}
_SETTINGS_CHECKS: dict[str, _Check] = {
    "mode": _choice(MODES),
    "style": _choice(STYLES),
    "initial": _choice(INITIALS),
    "create_venv": _boolean,
    "python": _string("python3", optional=False),
}
_ENTRY_CHECKS: dict[str, _Check] = {
    "path": _string("~/code/app", optional=False),
    "venv": _string(".venv", optional=True),
    "requirements": _string("requirements.txt", optional=True),
}
_PROJECT_CHECKS = {**_ENTRY_CHECKS, **_SETTINGS_CHECKS}
_TOP_KEYS = ("daemon", "defaults", "project")
_SECTION_OF = {  # where a key misplaced in another table belongs
    **dict.fromkeys(_DAEMON_CHECKS, "[daemon]"),
    **dict.fromkeys(_SETTINGS_CHECKS, "[defaults] or [[project]]"),
    **dict.fromkeys(_ENTRY_CHECKS, "[[project]]"),
}


def check_project_value(key: str, value: object, where: str) -> object:
    """Check one `[[project]]` value (such as `add --mode`) as the config loader would.

    `where` names the value in the message and hint, e.g. "--mode" or "project[2].mode".
    Returns the value; raises `ConfigError` with the loader's wording.
    """
    if key not in _PROJECT_CHECKS:
        keys = ", ".join(_PROJECT_CHECKS)
        raise ConfigError(f"{where}: unknown project key {key!r}", hint=f"the keys are: {keys}")
    return _PROJECT_CHECKS[key](value, _Loc(None, where))


def read_config_text(path: Path) -> str | None:
    """The config file's text, exactly (line endings kept); None when there is no file."""
    file = _absolute(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        is_dir = os.path.isdir(path)  # noqa: PTH112 (never raises)
        problem = (
            "is a directory, not a config file" if is_dir else f"cannot be read ({exc.strerror})"
        )
        raise ConfigError(f"{file}: {problem}", hint=_FILE_HINT) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{file}: is not valid UTF-8 (byte {exc.start}, line {line})",
            hint="save the config file as UTF-8",
        ) from None


_FILE_HINT = "pass the path of a readable TOML file with --config or $VENVSYNCD_CONFIG"


def load_config(path: Path) -> Config:
    """Read and validate `path`; a missing file is the default, empty config."""
    text = read_config_text(path)
    if text is None:
        return Config(_absolute(path), False, DaemonSettings(), ProjectSettings(), ())
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate config `text` as if read from `path` (messages name it; relative paths use it)."""
    file = _absolute(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: is not valid TOML: {exc}", hint=_TOML_HINT) from None
    except RecursionError:
        raise ConfigError(f"{file}: is nested too deeply to read", hint=_TOML_HINT) from None
    top = _Loc(str(file), "")
    _check_keys(data, _TOP_KEYS, top, "the top level")
    daemon_values = _checked(_section(data, "daemon", top), _DAEMON_CHECKS)
    defaults_values = _checked(_section(data, "defaults", top), _SETTINGS_CHECKS)
    daemon = dataclasses.replace(DaemonSettings(), **daemon_values)
    defaults = dataclasses.replace(ProjectSettings(), **defaults_values)
    projects = _projects(data.get("project", []), top.child("project"), file.parent, defaults)
    return Config(file, True, daemon, defaults, projects)


_TOML_HINT = "fix the TOML syntax there; config.example.toml shows every key"


def _checked(table: _Table, checks: Mapping[str, _Check]) -> dict[str, Any]:
    _check_keys(table.values, tuple(checks), table.loc, table.name)
    return {k: checks[k](v, table.loc.child(k)) for k, v in table.values.items() if k in checks}


@dataclass(frozen=True)
class _Table:
    values: dict[str, object]
    loc: _Loc
    name: str  # for the hint listing its keys: "[daemon]", "[[project]]"


def _table(value: object, loc: _Loc, name: str, hint: str) -> _Table:
    if not isinstance(value, dict):
        raise loc.error(f"expected a table ({name}), got {_toml_type(value)}", hint)
    return _Table(value, loc, name)


def _section(data: dict[str, object], key: str, top: _Loc) -> _Table:
    hint = f"write it as one [{key}] table, with single brackets"
    return _table(data.get(key, {}), top.child(key), f"[{key}]", hint)


def _projects(
    value: object, loc: _Loc, base: Path, defaults: ProjectSettings
) -> tuple[ProjectEntry, ...]:
    if not isinstance(value, list):
        raise loc.error(
            f"expected an array of tables ([[project]]), got {_toml_type(value)}",
            "write each project as its own [[project]] table, with double brackets",
        )
    entries: list[ProjectEntry] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(value, start=1):
        item_loc = _Loc(loc.file, f"project[{number}]")
        table = _table(item, item_loc, "[[project]]", "write each project as a [[project]] table")
        entry = _project(table, base, defaults)
        first = seen.setdefault(_path_key(entry.path), number)
        if first != number:
            raise item_loc.error(
                f"path {str(entry.path)!r} is already configured by project[{first}]",
                f"remove project[{first}] or project[{number}]; a folder is one project",
            )
        entries.append(entry)
    return tuple(entries)


def _project(table: _Table, base: Path, defaults: ProjectSettings) -> ProjectEntry:
    values = _checked(table, _PROJECT_CHECKS)
    if "path" not in values:
        raise table.loc.error(
            "has no path, which is required",
            f'add path = "~/code/app" (the project folder) to {table.loc.key}',
        )
    folder = _absolute(base / os.path.expanduser(values.pop("path")))  # noqa: PTH111
    venv: str | None = values.pop("venv", None)
    requirements: str | None = values.pop("requirements", None)
    for key, tail in (("path", None), ("venv", venv), ("requirements", requirements)):
        _fits(folder / tail if tail else folder, table.loc.child(key))
    return ProjectEntry(folder, venv, requirements, dataclasses.replace(defaults, **values))


_NAME_MAX, _PATH_MAX = 255, 4096  # bytes in a file name and a path (Linux's limits)


def _fits(path: Path, loc: _Loc) -> None:
    """A path the system can open: no name longer than it allows, nor the whole."""
    encoded = os.fsencode(path)
    if len(encoded) < _PATH_MAX and all(len(os.fsencode(p)) <= _NAME_MAX for p in path.parts):
        return
    raise loc.error(
        f"makes a path too long for the system ({len(encoded)} bytes: at most {_PATH_MAX}, "
        f"and {_NAME_MAX} for a name)",
        f"set {loc.key} to the path of a real folder",
    )


def _check_keys(
    values: Mapping[str, object], allowed: tuple[str, ...], loc: _Loc, name: str
) -> None:
    for key in values:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1)
        problem = "unknown key" + (f", did you mean {close[0]!r}?" if close else "")
        if key in _SECTION_OF:
            problem = f"unknown key in {name}, it belongs in {_SECTION_OF[key]}"
        raise loc.child(key).error(problem, f"the keys of {name} are: {', '.join(allowed)}")


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _quote_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def _absolute(path: Path) -> Path:
    """Absolute and normalised (`..` folded) without resolving symlinks."""
    return Path(os.path.abspath(path))


def _path_key(path: Path) -> str:
    return os.path.normcase(str(path))


def _toml_type(value: object) -> str:
    if isinstance(value, date | time):  # datetime is a date
        return "a date-time"
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names.update({dict: "a table", list: "an array"})
    return names.get(type(value), type(value).__name__)

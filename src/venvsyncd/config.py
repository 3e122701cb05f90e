"""The config file: load (tomllib) -> validate -> frozen dataclasses.

Every problem is a `ConfigError` naming the file and the key path (`daemon.installer`,
`project[2].mode`, with 1-based project numbers) plus a hint with the allowed values.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from venvsyncd.configcheck import (
    Check,
    Loc,
    boolean,
    choice,
    seconds,
    string,
    strings,
    toml_type,
    whole_number,
)
from venvsyncd.errors import ConfigError

MODES = ("both", "freeze", "install")
STYLES = ("preserve", "top", "pip")
INITIALS = ("ask", "env", "file")
TRUSTS = ("pins", "all", "none")
PINS = (">=", "==")
INSTALLERS = ("pip", "uv", "auto")
LOG_LEVELS = ("debug", "info", "warning", "error")
# The test, lint, type-check, docs and release tools a project's dev file holds (`dev`)
DEV_TOOLS: tuple[str, ...] = ("pytest", "pytest-*", "coverage", "hypothesis", "tox", "nox")
DEV_TOOLS += ("mypy", "pyright", "types-*", "*-stubs", "ruff", "black", "isort", "flake8")
DEV_TOOLS += ("flake8-*", "pylint", "bandit", "codespell", "pre-commit", "sphinx", "sphinx-*")
DEV_TOOLS += ("mkdocs", "mkdocs-*", "ipython", "ipdb", "pip-tools", "build", "twine")


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
    trust: str = "pins"  # which file changes apply without `allow` (engine/trust.py)
    autoremove: bool = False  # uninstall the new orphans (engine/health.py)
    dev: tuple[str, ...] = DEV_TOOLS  # globs: a new package matching one goes to the dev file
    pin: str = ">="  # how a new pyproject.toml dependency is pinned (as `uv add` does)


@dataclass(frozen=True)
class ProjectEntry:
    path: Path  # absolute, `~` expanded, symlinks not resolved
    venv: str | None  # relative to `path` (None: the first of .venv, venv, env)
    requirements: str | None  # relative to `path` (None: requirements.txt)
    settings: ProjectSettings
    dev_files: tuple[str, ...] = ()  # `requirements = [main, dev, ...]`: the files after the first


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


_DAEMON_CHECKS: dict[str, Check] = {
    "settle_seconds": seconds,
    "installer": choice(INSTALLERS),
    "log_level": choice(LOG_LEVELS),
    "history": whole_number(1, 100_000, 100),
}
_SETTINGS_CHECKS: dict[str, Check] = {
    "mode": choice(MODES),
    "style": choice(STYLES),
    "initial": choice(INITIALS),
    "create_venv": boolean,
    "python": string("python3", optional=False),
    "trust": choice(TRUSTS),
    "autoremove": boolean,
    "dev": strings("pytest*"),
    "pin": choice(PINS),
}
_ENTRY_CHECKS: dict[str, Check] = {
    "path": string("~/code/app", optional=False),
    "venv": string(".venv", optional=True),
    "requirements": strings("requirements.txt", at_least=1),
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
    checked = _PROJECT_CHECKS[key](value, Loc(None, where))
    return value if isinstance(value, str) else checked  # one file stays a string


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
    top = Loc(str(file), "")
    _check_keys(data, _TOP_KEYS, top, "the top level")
    daemon_values = _checked(_section(data, "daemon", top), _DAEMON_CHECKS)
    defaults_values = _checked(_section(data, "defaults", top), _SETTINGS_CHECKS)
    daemon = dataclasses.replace(DaemonSettings(), **daemon_values)
    defaults = dataclasses.replace(ProjectSettings(), **defaults_values)
    projects = _projects(data.get("project", []), top.child("project"), file.parent, defaults)
    return Config(file, True, daemon, defaults, projects)


_TOML_HINT = "fix the TOML syntax there; config.example.toml shows every key"


def _checked(table: _Table, checks: Mapping[str, Check]) -> dict[str, Any]:
    _check_keys(table.values, tuple(checks), table.loc, table.name)
    return {k: checks[k](v, table.loc.child(k)) for k, v in table.values.items() if k in checks}


@dataclass(frozen=True)
class _Table:
    values: dict[str, object]
    loc: Loc
    name: str  # for the hint listing its keys: "[daemon]", "[[project]]"


def _table(value: object, loc: Loc, name: str, hint: str) -> _Table:
    if not isinstance(value, dict):
        raise loc.error(f"expected a table ({name}), got {toml_type(value)}", hint)
    return _Table(value, loc, name)


def _section(data: dict[str, object], key: str, top: Loc) -> _Table:
    hint = f"write it as one [{key}] table, with single brackets"
    return _table(data.get(key, {}), top.child(key), f"[{key}]", hint)


def _projects(
    value: object, loc: Loc, base: Path, defaults: ProjectSettings
) -> tuple[ProjectEntry, ...]:
    if not isinstance(value, list):
        raise loc.error(
            f"expected an array of tables ([[project]]), got {toml_type(value)}",
            "write each project as its own [[project]] table, with double brackets",
        )
    entries: list[ProjectEntry] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(value, start=1):
        item_loc = Loc(loc.file, f"project[{number}]")
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
    files: tuple[str, ...] = values.pop("requirements", ())
    requirements = files[0] if files else None
    for key, tail in (("path", None), ("venv", venv), *(("requirements", f) for f in files)):
        _fits(folder / tail if tail else folder, table.loc.child(key))
    settings = dataclasses.replace(defaults, **values)
    if requirements is not None and Path(requirements).name == "pyproject.toml" and files[1:]:
        raise table.loc.child("requirements").error(
            "names files after pyproject.toml, whose dev tools are its [dependency-groups]",
            'write requirements = "pyproject.toml"; put the dev tools in a group',
        )
    return ProjectEntry(folder, venv, requirements, settings, files[1:])


_NAME_MAX, _PATH_MAX = 255, 4096  # bytes in a file name and a path (Linux's limits)


def _fits(path: Path, loc: Loc) -> None:
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
    values: Mapping[str, object], allowed: tuple[str, ...], loc: Loc, name: str
) -> None:
    for key in values:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1)
        problem = "unknown key" + (f", did you mean {close[0]!r}?" if close else "")
        if key in _SECTION_OF:
            problem = f"unknown key in {name}, it belongs in {_SECTION_OF[key]}"
        raise loc.child(key).error(problem, f"the keys of {name} are: {', '.join(allowed)}")


def _absolute(path: Path) -> Path:
    """Absolute and normalised (`..` folded) without resolving symlinks."""
    return Path(os.path.abspath(path))


def _path_key(path: Path) -> str:
    return os.path.normcase(str(path))

"""config.py: load -> validate -> frozen dataclasses, and every way a config can be wrong."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from venvsyncd.config import (
    INITIALS,
    INSTALLERS,
    LOG_LEVELS,
    MODES,
    STYLES,
    Config,
    DaemonSettings,
    ProjectEntry,
    ProjectSettings,
    check_project_value,
    load_config,
    parse_config,
)
from venvsyncd.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
CONFIG = Path("/home/u/.config/venvsyncd/config.toml")


def error_of(text: str, path: Path = CONFIG) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, path)
    return info.value


def test_missing_file_is_the_default_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nowhere" / "config.toml")
    assert config == Config(
        tmp_path / "nowhere" / "config.toml", False, DaemonSettings(), ProjectSettings(), ()
    )


def test_empty_file_is_the_default_config_that_exists(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("# nothing yet\n")
    config = load_config(tmp_path / "config.toml")
    assert config.exists
    assert (config.daemon, config.defaults, config.projects) == (
        DaemonSettings(),
        ProjectSettings(),
        (),
    )


def test_every_key_is_read(isolated_home: Path) -> None:
    text = """
[daemon]
settle_seconds = 2
installer = "uv"
log_level = "debug"
history = 500

[defaults]
mode = "install"
style = "pip"
initial = "env"
create_venv = false
python = "3.12"
trust = "none"

[[project]]
path = "~/code/app"
venv = "v"
requirements = "req/base.txt"
mode = "freeze"
python = "/opt/python/bin/python3"

[[project]]
path = "/srv/other"
"""
    config = parse_config(text, CONFIG)
    assert config.daemon == DaemonSettings(
        settle_seconds=2.0, installer="uv", log_level="debug", history=500
    )
    assert isinstance(config.daemon.settle_seconds, float)
    defaults = ProjectSettings("install", "pip", "env", False, "3.12", "none")
    assert config.defaults == defaults
    assert config.projects == (
        ProjectEntry(
            isolated_home / "code" / "app",
            "v",
            "req/base.txt",
            dataclasses.replace(defaults, mode="freeze", python="/opt/python/bin/python3"),
        ),
        ProjectEntry(Path("/srv/other"), None, None, defaults),
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("~/code/app", "{home}/code/app"),
        ("/srv/app/", "/srv/app"),
        ("/srv/x/../app", "/srv/app"),
        ("app", "{config_dir}/app"),
        ("../projects/app", "{config_dir}/../projects/app"),
        (".", "{config_dir}"),
    ],
)
def test_project_paths_are_absolute(
    tmp_path: Path, isolated_home: Path, written: str, expected: str
) -> None:
    config_file = tmp_path / "etc" / "config.toml"
    config = parse_config(tomli_w.dumps({"project": [{"path": written}]}), config_file)
    want = expected.format(home=isolated_home, config_dir=config_file.parent)
    assert config.projects[0].path == Path(os.path.normpath(want))


def test_symlinks_in_project_paths_are_not_resolved(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    config = parse_config(f'[[project]]\npath = "{tmp_path}/link"\n', CONFIG)
    assert config.projects[0].path == tmp_path / "link"


def test_relative_config_path_resolves_against_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = parse_config('[[project]]\npath = "app"\n', Path("conf/config.toml"))
    assert config.file == tmp_path / "conf" / "config.toml"
    assert config.projects[0].path == tmp_path / "conf" / "app"


def test_find_compares_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config(f'[[project]]\npath = "{tmp_path}/a"\n[[project]]\npath = "b"\n', CONFIG)
    monkeypatch.chdir(tmp_path)
    assert config.find(Path("a")) is config.projects[0]
    assert config.find(tmp_path / "x" / ".." / "a") is config.projects[0]
    assert config.find(CONFIG.parent / "b") is config.projects[1]
    assert config.find(tmp_path / "b") is None


def test_values_are_frozen() -> None:
    config = parse_config('[[project]]\npath = "/a"\n', CONFIG)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.projects[0].settings.mode = "pip"  # type: ignore[misc]  # frozen on purpose


def test_crlf_config_is_read() -> None:
    config = parse_config('[defaults]\r\nmode = "freeze"\r\n[[project]]\r\npath = "/a"\r\n', CONFIG)
    assert config.projects[0].settings.mode == "freeze"


F = str(CONFIG)

# (config text, the message after the file name, words the hint must hold)
BAD_CONFIGS = [
    # unknown keys, with and without a close match
    (
        "projects = []",
        "projects: unknown key, did you mean 'project'?",
        ["daemon, defaults, project"],
    ),
    ("colour = 1", "colour: unknown key", ["daemon, defaults, project"]),
    ('"a b" = 1', '"a b": unknown key', ["daemon, defaults, project"]),
    (
        "[daemon]\ninstaler = 'uv'",
        "daemon.instaler: unknown key, did you mean 'installer'?",
        ["settle_seconds, installer, log_level, history"],
    ),
    (
        "[daemon]\nport = 1",
        "daemon.port: unknown key",
        ["[daemon]", "settle_seconds, installer, log_level"],
    ),
    (
        "[defaults]\nmdoe = 'both'",
        "defaults.mdoe: unknown key, did you mean 'mode'?",
        ["mode, style, initial, create_venv, python, trust, autoremove, dev, pin"],
    ),
    (
        "[defaults]\npath = 'x'",
        "defaults.path: unknown key in [defaults], it belongs in [[project]]",
        ["[defaults]", "mode, style, initial"],
    ),
    (
        "mode = 'both'",
        "mode: unknown key in the top level, it belongs in [defaults] or [[project]]",
        ["daemon, defaults, project"],
    ),
    (
        "[daemon]\nmode = 'both'",
        "daemon.mode: unknown key in [daemon], it belongs in [defaults] or [[project]]",
        ["settle_seconds"],
    ),
    (
        "[defaults]\ninstaller = 'uv'",
        "defaults.installer: unknown key in [defaults], it belongs in [daemon]",
        ["mode, style"],
    ),
    (
        "[[project]]\npath = '/a'\nlog_level = 'debug'",
        "project[1].log_level: unknown key in [[project]], it belongs in [daemon]",
        ["path, venv"],
    ),
    (
        "[[project]]\npath = '/a'\n[[project]]\npath = '/b'\nstlye = 'pip'",
        "project[2].stlye: unknown key, did you mean 'style'?",
        ["[[project]]", "path, venv, requirements, mode, style"],
    ),
    (
        "[[project]]\npath = '/a'\nvenv_dir = 'v'",
        "project[1].venv_dir: unknown key, did you mean 'venv'?",
        ["path, venv"],
    ),
    ("[daemon.extra]\nx = 1", "daemon.extra: unknown key", ["settle_seconds"]),
    # wrong types
    (
        "[defaults]\ncreate_venv = 'yes'",
        "defaults.create_venv: expected a boolean, got a string",
        ["true or false"],
    ),
    (
        "[[project]]\npath = '/a'\ncreate_venv = 1",
        "project[1].create_venv: expected a boolean, got an integer",
        ["true or false"],
    ),
    (
        "[daemon]\nsettle_seconds = true",
        "daemon.settle_seconds: expected a number, got a boolean",
        [">= 0"],
    ),
    (
        "[daemon]\nsettle_seconds = '1'",
        "daemon.settle_seconds: expected a number, got a string",
        [">= 0"],
    ),
    (
        "[daemon]\nsettle_seconds = 1979-05-27",
        "daemon.settle_seconds: expected a number, got a date-time",
        [">= 0"],
    ),
    (
        "[defaults]\nmode = 1",
        "defaults.mode: expected a string, one of 'both', 'freeze', 'install', got an integer",
        ["both, freeze, install"],
    ),
    (
        "[defaults]\npython = ['python3']",
        "defaults.python: expected a string, got an array",
        ['"python3"'],
    ),
    (
        "[[project]]\npath = 1",
        "project[1].path: expected a string, got an integer",
        ['"~/code/app"'],
    ),
    (
        "[[project]]\npath = '/a'\nvenv = false",
        "project[1].venv: expected a string, got a boolean",
        ['".venv"', "leave it out"],
    ),
    (
        "[[project]]\npath = '/a'\nrequirements = {file = 'r.txt'}",
        "project[1].requirements: expected a string or an array of strings, got a table",
        ['"requirements.txt"'],
    ),
    (
        "daemon = 1",
        "daemon: expected a table ([daemon]), got an integer",
        ["[daemon]", "single brackets"],
    ),
    (
        "[[daemon]]\ninstaller = 'uv'",
        "daemon: expected a table ([daemon]), got an array",
        ["[daemon]"],
    ),
    (
        "defaults = ['both']",
        "defaults: expected a table ([defaults]), got an array",
        ["[defaults]"],
    ),
    (
        "[project]\npath = '/a'",
        "project: expected an array of tables ([[project]]), got a table",
        ["[[project]]", "double brackets"],
    ),
    (
        "project = '/a'",
        "project: expected an array of tables ([[project]]), got a string",
        ["[[project]]"],
    ),
    (
        "project = ['/a']",
        "project[1]: expected a table ([[project]]), got a string",
        ["[[project]]"],
    ),
    # bad enum values
    (
        "[[project]]\npath = '/a'\n[[project]]\npath = '/b'\nmode = 'fast'",
        "project[2].mode: 'fast' is not one of 'both', 'freeze', 'install'",
        ["set project[2].mode to one of: both, freeze, install"],
    ),
    (
        "[defaults]\nstyle = 'black'",
        "defaults.style: 'black' is not one of 'preserve', 'top', 'pip'",
        ["set defaults.style to one of: preserve, top, pip"],
    ),
    (
        "[defaults]\ninitial = 'never'",
        "defaults.initial: 'never' is not one of 'ask', 'env', 'file'",
        ["ask, env, file"],
    ),
    (
        "[daemon]\ninstaller = 'poetry'",
        "daemon.installer: 'poetry' is not one of 'pip', 'uv', 'auto'",
        ["pip, uv, auto"],
    ),
    (
        "[daemon]\nlog_level = 'INFO'",
        "daemon.log_level: 'INFO' is not one of 'debug', 'info', 'warning', 'error'",
        ["debug, info, warning, error"],
    ),
    # numbers out of range
    (
        "[daemon]\nsettle_seconds = -0.5",
        "daemon.settle_seconds: -0.5 is negative",
        ["set daemon.settle_seconds to a number of seconds >= 0"],
    ),
    ("[daemon]\nsettle_seconds = -1", "daemon.settle_seconds: -1 is negative", [">= 0"]),
    (
        "[daemon]\nsettle_seconds = nan",
        "daemon.settle_seconds: nan is not a finite number",
        [">= 0"],
    ),
    (
        "[daemon]\nsettle_seconds = inf",
        "daemon.settle_seconds: inf is not a finite number",
        [">= 0"],
    ),
    ("[daemon]\nsettle_seconds = " + "9" * 400, "daemon.settle_seconds: is too large", [">= 0"]),
    # history: a whole number of versions, 1 to 100000
    (
        "[daemon]\nhistory = true",
        "daemon.history: expected an integer, got a boolean",
        ["set daemon.history to a whole number from 1 to 100000, such as 100"],
    ),
    ("[daemon]\nhistory = '100'", "daemon.history: expected an integer, got a string", ["1 to"]),
    ("[daemon]\nhistory = 100.0", "daemon.history: expected an integer, got a float", ["1 to"]),
    ("[daemon]\nhistory = 0", "daemon.history: 0 is less than 1", ["from 1 to 100000"]),
    ("[daemon]\nhistory = -5", "daemon.history: -5 is less than 1", ["from 1 to 100000"]),
    (
        "[daemon]\nhistory = 100001",
        "daemon.history: 100001 is more than 100000",
        ["from 1 to 100000"],
    ),
    ("[daemon]\nhistory = " + "9" * 400, "daemon.history: is more than 100000", ["1 to"]),
    (
        "[defaults]\nhistory = 5",
        "defaults.history: unknown key in [defaults], it belongs in [daemon]",
        ["mode, style"],
    ),
    # invalid TOML: tomllib's own words, with the line and column
    (
        "[daemon]\nsettle_seconds = = 1",
        "is not valid TOML: Invalid value (at line 2, column 18)",
        ["fix the TOML syntax"],
    ),
    (
        "[defaults]\nmode = 'both'\n[defaults]\n",
        "is not valid TOML: Cannot declare ('defaults',) twice (at line 3, column 10)",
        ["fix the TOML syntax"],
    ),
    ("x = " + "[" * 5000 + "]" * 5000, "is nested too deeply to read", ["fix the TOML syntax"]),
    # projects: path required, not empty, not twice
    (
        "[[project]]\nvenv = '.venv'",
        "project[1]: has no path, which is required",
        ['add path = "~/code/app"', "to project[1]"],
    ),
    (
        "[[project]]\npath = '/a'\n[[project]]\nmode = 'pip'",
        "project[2].mode: 'pip' is not one of 'both', 'freeze', 'install'",
        ["both"],
    ),
    (
        "[[project]]\npath = '/a'\n[[project]]\n",
        "project[2]: has no path, which is required",
        ["to project[2]"],
    ),
    ("[[project]]\npath = ''", "project[1].path: is an empty string", ['"~/code/app"']),
    (
        "[[project]]\npath = '/a'\nvenv = ''",
        "project[1].venv: is an empty string",
        ["leave it out"],
    ),
    ("[defaults]\npython = ''", "defaults.python: is an empty string", ['"python3"']),
    (
        '[[project]]\npath = "/a\\u0000b"',
        "project[1].path: contains a NUL character",
        ["non-empty string"],
    ),
    (
        "[[project]]\npath = '/a'\n[[project]]\npath = '/b'\n[[project]]\npath = '/x/../a/'",
        "project[3]: path '/a' is already configured by project[1]",
        ["remove project[1] or project[3]"],
    ),
    (
        "[[project]]\npath = 'app'\n[[project]]\npath = '/home/u/.config/venvsyncd/app'",
        "project[2]: path '/home/u/.config/venvsyncd/app' is already configured by project[1]",
        ["project[1] or project[2]"],
    ),
    (
        "[defaults]\npin = '~='",
        "defaults.pin: '~=' is not one of '>=', '=='",
        [">=", "=="],
    ),
    (
        "[[project]]\npath = '/a'\nrequirements = ['pyproject.toml', 'requirements-dev.txt']",
        "project[1].requirements: names files after pyproject.toml, whose dev tools are its "
        "[dependency-groups]",
        ['requirements = "pyproject.toml"'],
    ),
]


@pytest.mark.parametrize(("text", "message", "hint_words"), BAD_CONFIGS)
def test_bad_config_names_file_key_and_fix(text: str, message: str, hint_words: list[str]) -> None:
    error = error_of(text)
    assert error.message == f"{F}: {message}"
    assert error.exit_code == 2
    assert error.hint is not None
    for word in hint_words:
        assert word in error.hint


def test_unknown_key_in_a_project_lists_every_project_key() -> None:
    error = error_of("[[project]]\npath = '/a'\nfrobnicate = 1")
    assert error.message == f"{F}: project[1].frobnicate: unknown key"
    assert error.hint == (
        "the keys of [[project]] are: "
        "path, venv, requirements, mode, style, initial, create_venv, python, trust, "
        "autoremove, dev, pin"
    )


def test_errors_render_as_one_sentence_and_a_hint() -> None:
    rendered = error_of("[defaults]\nmode = 'fast'").render()
    assert rendered == (
        f"venvsyncd: error: {F}: defaults.mode: 'fast' is not one of 'both', 'freeze', 'install'\n"
        "hint: set defaults.mode to one of: both, freeze, install"
    )


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=rf"^{tmp_path}: is a directory, not a config file$"):
        load_config(tmp_path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads all")
def test_an_unreadable_config(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text("")
    config_file.chmod(0)
    with pytest.raises(ConfigError, match=r"config.toml: cannot be read \(Permission denied\)"):
        load_config(config_file)


def test_a_config_below_a_file_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"file/config.toml: cannot be read \(Not a directory\)"):
        load_config(tmp_path / "file" / "config.toml")


def test_a_config_name_too_long_to_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r": cannot be read \(File name too long\)$"):
        load_config(tmp_path / ("c" * 300))


def test_a_config_that_is_not_utf8(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_bytes(b"[defaults]\npython = '/opt/caf\xe9'\n")
    with pytest.raises(ConfigError) as info:
        load_config(config_file)
    assert info.value.message == f"{config_file}: is not valid UTF-8 (byte 29, line 2)"
    assert info.value.hint == "save the config file as UTF-8"


def test_load_reads_the_file(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_bytes(b'[daemon]\r\nlog_level = "error"\r\n[[project]]\r\npath = "p"\r\n')
    config = load_config(config_file)
    assert config.exists
    assert config.file == config_file
    assert config.daemon.log_level == "error"
    assert config.projects[0].path == tmp_path / "p"


def test_load_names_the_file_in_toml_errors(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text("[defaults\n")
    with pytest.raises(ConfigError, match=rf"^{config_file}: is not valid TOML: .*\(at line 1,"):
        load_config(config_file)


def test_the_example_config_is_the_defaults_plus_one_project(isolated_home: Path) -> None:
    config = load_config(REPO / "config.example.toml")
    assert config.daemon == DaemonSettings()
    assert config.defaults == ProjectSettings()
    assert config.projects == (
        ProjectEntry(
            isolated_home / "code" / "app",
            ".venv",
            "requirements.txt",
            ProjectSettings(mode="freeze"),
        ),
    )


def test_the_example_config_comments_every_key() -> None:
    text = (REPO / "config.example.toml").read_text()
    keys = ["settle_seconds", "installer", "log_level", "history", "mode", "style", "initial"]
    keys += ["create_venv", "python", "trust", "path", "venv", "requirements"]
    lines = text.splitlines()
    for key in keys:
        found = [i for i, line in enumerate(lines) if line.startswith(f"{key} = ")]
        assert found, key
        assert all(lines[i - 1].startswith("# ") for i in found), key


@pytest.mark.parametrize("history", [1, 2, 100, 99_999, 100_000])
def test_history_is_read(history: int) -> None:
    config = parse_config(f"[daemon]\nhistory = {history}\n", CONFIG)
    assert config.daemon == DaemonSettings(history=history)
    assert type(config.daemon.history) is int


@pytest.mark.parametrize(
    ("key", "value"),
    [("mode", m) for m in MODES]
    + [("style", s) for s in STYLES]
    + [("initial", i) for i in INITIALS]
    + [("create_venv", False), ("python", "3.12"), ("trust", "all"), ("venv", "v")]
    + [("requirements", "r.txt")],
)
def test_check_project_value_accepts_what_the_config_accepts(key: str, value: object) -> None:
    assert check_project_value(key, value, f"--{key}") == value
    parse_config(tomli_w.dumps({"project": [{"path": "/a", key: value}]}), CONFIG)


@pytest.mark.parametrize(
    ("key", "value", "message", "hint"),
    [
        ("mode", "fast", "--mode: 'fast' is not one of 'both', 'freeze', 'install'",
         "set --mode to one of: both, freeze, install"),
        ("style", "black", "--style: 'black' is not one of 'preserve', 'top', 'pip'",
         "set --style to one of: preserve, top, pip"),
        ("venv", "", "--venv: is an empty string",
         'set --venv to a non-empty string, such as ".venv", or leave it out for the default'),
        ("colour", "red", "--colour: unknown project key 'colour'",
         "the keys are: path, venv, requirements, mode, style, initial, create_venv, python, "
         "trust, autoremove, dev, pin"),
    ],
)  # fmt: skip
def test_check_project_value_rejects_with_the_loader_wording(
    key: str, value: object, message: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as info:
        check_project_value(key, value, f"--{key}")
    assert (info.value.message, info.value.hint) == (message, hint)


def test_the_choice_tuples() -> None:
    assert (MODES, STYLES, INITIALS) == (
        ("both", "freeze", "install"),
        ("preserve", "top", "pip"),
        ("ask", "env", "file"),
    )
    assert (INSTALLERS, LOG_LEVELS) == (
        ("pip", "uv", "auto"),
        ("debug", "info", "warning", "error"),
    )


@given(st.text())
def test_any_text_is_a_config_or_a_config_error(text: str) -> None:
    try:
        parse_config(text, CONFIG)
    except ConfigError as error:
        assert error.message.startswith(f"{F}: ")
        assert error.hint


_KEYS = st.sampled_from(
    ["daemon", "defaults", "project", "path", "venv", "requirements", "mode", "style",
     "initial", "create_venv", "python", "trust", "settle_seconds", "installer", "log_level",
     "history", "x"]
)  # fmt: skip
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from([*MODES, *STYLES, *INITIALS, *INSTALLERS, *LOG_LEVELS, "", "/a", "~/b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)


def _drop_none(value: object) -> object:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if v is not None]
    return value


@given(st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_any_toml_document_is_a_config_or_a_config_error(document: dict[str, object]) -> None:
    cleaned = _drop_none(document)
    assert isinstance(cleaned, dict)
    try:
        config = parse_config(tomli_w.dumps(cleaned), CONFIG)
    except ConfigError as error:
        assert error.message.startswith(f"{F}: ")
        assert error.hint
    else:
        assert len(config.projects) == len(cleaned.get("project", []))


def test_a_pyproject_project_follows_the_top_rule_whatever_the_style(tmp_path: Path) -> None:
    from venvsyncd.project import resolve

    text = f"[defaults]\nstyle = 'pip'\npin = '=='\n[[project]]\npath = '{tmp_path}'\n"
    text += "requirements = 'pyproject.toml'\n"
    (entry,) = parse_config(text, CONFIG).projects
    project = resolve(entry)
    assert (project.settings.style, project.settings.pin) == ("top", "==")
    assert project.requirements == tmp_path / "pyproject.toml"

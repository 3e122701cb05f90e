"""configedit.py: `add` and `remove` edit the config text and keep every other byte."""

from __future__ import annotations

import dataclasses
import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from venvsyncd.config import (
    MODES,
    STYLES,
    ProjectEntry,
    ProjectSettings,
    load_config,
    parse_config,
)
from venvsyncd.configedit import add_project, remove_project, save_config_text
from venvsyncd.errors import ConfigError, VenvsyncdError

CONFIG = Path("/home/u/.config/venvsyncd/config.toml")

REALISTIC = '''\
# venvsyncd config: managed partly by `venvsyncd add`.

[daemon]
settle_seconds = 2.5   # pip takes a while on this laptop
installer = "uv"

[defaults]
style = "preserve"
python = """
[[project]]
not a header: this is a string"""

# --- projects ---------------------------------------------------------
[[project]]
path = "~/code/app"
mode = "freeze"  # app pins by hand
# trailing note about app

# The API: watch out, its venv is called "env".
[[project]]
path = "~/code/api"
venv = "env"

[[ project ]]   # the docs site
path = '/srv/docs'
requirements = "docs/requirements.txt"
# a comment attached to the end of the file
'''


def project_paths(text: str) -> list[str]:
    return [str(p.path) for p in parse_config(text, CONFIG).projects]


# --- add ------------------------------------------------------------------------------------


def test_add_to_an_empty_config() -> None:
    assert add_project("", {"path": "~/code/app"}) == '[[project]]\npath = "~/code/app"\n'


def test_add_appends_after_one_blank_line_and_keeps_every_byte() -> None:
    table = {"path": "/srv/new", "venv": ".venv", "mode": "install", "create_venv": False}
    added = add_project(REALISTIC, table)
    assert added == REALISTIC + (
        '\n[[project]]\npath = "/srv/new"\nvenv = ".venv"\nmode = "install"\ncreate_venv = false\n'
    )
    config = parse_config(added, CONFIG)
    assert config.projects[-1] == ProjectEntry(
        Path("/srv/new"),
        ".venv",
        None,
        dataclasses.replace(config.defaults, mode="install", create_venv=False),
    )
    assert config.projects[:-1] == parse_config(REALISTIC, CONFIG).projects


def test_add_ends_an_unterminated_last_line_first() -> None:
    assert add_project("# hi", {"path": "/a"}) == '# hi\n\n[[project]]\npath = "/a"\n'


def test_add_writes_a_table_never_an_inline_array() -> None:
    # tomli_w.dumps({"project": [table]}) would write `project = [{ path = "/a" }]`, which
    # cannot follow a [section] or other [[project]] tables.
    text = '[[project]]\npath = "/a"\n[defaults]\nmode = "both"\n'
    added = add_project(text, {"path": "/b"})
    assert added.endswith('\n\n[[project]]\npath = "/b"\n')
    assert project_paths(added) == ["/a", "/b"]
    assert parse_config(added, CONFIG).defaults == ProjectSettings()


def test_add_keeps_crlf() -> None:
    text = '[defaults]\r\nmode = "freeze"\r\n'
    added = add_project(text, {"path": "/a", "style": "pip"})
    assert added == text + '\r\n[[project]]\r\npath = "/a"\r\nstyle = "pip"\r\n'
    assert "\n" not in added.replace("\r\n", "")


def test_add_crlf_file_without_final_newline() -> None:
    added = add_project("# a\r\n# b", {"path": "/a"})
    assert added == '# a\r\n# b\r\n\r\n[[project]]\r\npath = "/a"\r\n'


@pytest.mark.parametrize(
    "path",
    ['/srv/with "quotes"', "C:\\Users\\me\\app", "/srv/caf\u00e9 \u65e5\u672c", "/a\nb", "/t\tab"],
)
def test_add_escapes_what_toml_needs(path: str) -> None:
    added = add_project("[defaults]\n", {"path": path})
    assert tomllib.loads(added)["project"] == [{"path": path}]


def test_add_refuses_nested_tables() -> None:
    with pytest.raises(TypeError, match="'extra': dict is not a scalar"):
        add_project("", {"path": "/a", "extra": {"x": 1}})


# --- remove ---------------------------------------------------------------------------------

# The app's header follows a comment, so its trailing blank line stays to part that comment
# from the next table; the comment above the API's header is not the API table's (the spec
# cuts from the header line), and the blank line after the API table keeps it apart.
AFTER_REMOVING_APP = REALISTIC.replace(
    """[[project]]
path = "~/code/app"
mode = "freeze"  # app pins by hand
# trailing note about app
""",
    "",
)
AFTER_REMOVING_API = REALISTIC.replace('[[project]]\npath = "~/code/api"\nvenv = "env"\n', "")
AFTER_REMOVING_DOCS = REALISTIC.replace(
    """
[[ project ]]   # the docs site
path = '/srv/docs'
requirements = "docs/requirements.txt"
# a comment attached to the end of the file
""",
    "",
)


@pytest.mark.parametrize(
    ("index", "expected"),
    [(0, AFTER_REMOVING_APP), (1, AFTER_REMOVING_API), (2, AFTER_REMOVING_DOCS)],
)
def test_remove_cuts_exactly_one_table(index: int, expected: str, isolated_home: Path) -> None:
    assert remove_project(REALISTIC, index) == expected
    paths = [str(isolated_home / "code/app"), str(isolated_home / "code/api"), "/srv/docs"]
    del paths[index]
    assert project_paths(expected) == paths


def test_remove_first_keeps_the_comment_attached_to_the_next_table() -> None:
    removed = remove_project(REALISTIC, 0)
    assert "# trailing note about app" not in removed  # a blank line parts it from the next
    assert '-\n\n# The API: watch out, its venv is called "env".\n[[project]]\n' in removed


def test_remove_middle_keeps_the_other_tables_byte_for_byte() -> None:
    removed = remove_project(REALISTIC, 1)
    first = REALISTIC[: REALISTIC.index('[[project]]\npath = "~/code/api"')]
    last = REALISTIC[REALISTIC.index("\n[[ project ]]") :]
    assert removed == first + last


@pytest.mark.parametrize(
    ("text", "index", "expected"),
    [
        ("[[project]]\na\n\n[[project]]\nb\n", 0, "[[project]]\nb\n"),
        ("[[project]]\na\n\n[[project]]\nb\n", 1, "[[project]]\na\n"),
        ("x\n\n[[project]]\na\n\n[[project]]\nb\n", 0, "x\n\n[[project]]\nb\n"),
        ("# x\n[[project]]\na\n\n[[project]]\nb\n", 0, "# x\n\n[[project]]\nb\n"),
        ("# x\n[[project]]\na\n[[project]]\nb\n", 0, "# x\n[[project]]\nb\n"),
        ("x\n\n[[project]]\na\n\n\n", 0, "x\n\n\n"),
        ("x\n[[project]]\na\n", 0, "x\n"),
        ("[[project]]\na\n# b's\n[[project]]\nb\n", 0, "# b's\n[[project]]\nb\n"),
        ("[[project]]\na\n# a's\n\n[[project]]\nb\n", 0, "[[project]]\nb\n"),
        ("[[project]]\na\n\n# end\n", 0, ""),
    ],
)
def test_remove_spacing(text: str, index: int, expected: str) -> None:
    text, expected = (t.replace("\na\n", '\npath = "/a"\n') for t in (text, expected))
    text, expected = (t.replace("\nb\n", '\npath = "/b"\n') for t in (text, expected))
    text, expected = (t.replace("x\n", "[defaults]\n", 1) for t in (text, expected))
    assert remove_project(text, index) == expected


def test_remove_then_add_back_restores_a_last_project() -> None:
    removed = remove_project(REALISTIC, 2)
    table = {"path": "/srv/docs", "requirements": "docs/requirements.txt"}
    assert project_paths(add_project(removed, table)) == project_paths(REALISTIC)


def test_remove_ignores_header_lookalikes_in_strings_and_arrays() -> None:
    text = """\
[tool]
notes = '''
[[project]]
'''
more = \"\"\"a \\\"\"\" still inside
[[project]]
\"\"\"
matrix = [
  [1],
  ["[[project]]"],
]
inline = { a = "[[project]]" }  # [[project]]

[[project]]
path = "/a"

[[project]]
path = "/b"
"""
    assert len(tomllib.loads(text)["project"]) == 2
    removed = remove_project(text, 0)
    assert removed == text.replace('[[project]]\npath = "/a"\n\n', "")
    assert tomllib.loads(removed)["project"] == [{"path": "/b"}]
    assert tomllib.loads(removed)["tool"] == tomllib.loads(text)["tool"]


def test_remove_stops_at_any_next_header() -> None:
    text = '[[project]]\npath = "/a"\n# about defaults\n[defaults]\nmode = "pip"\n'
    with pytest.raises(ConfigError):  # mode = "pip" is a bad value, but TOML parses
        parse_config(text, CONFIG)
    assert remove_project(text, 0) == '# about defaults\n[defaults]\nmode = "pip"\n'


def test_remove_the_only_project() -> None:
    assert remove_project('[[project]]\npath = "/a"\n', 0) == ""
    assert remove_project('[[project]]\npath = "/a"', 0) == ""


def test_remove_keeps_crlf() -> None:
    text = '# c\r\n\r\n[[project]]\r\npath = "/a"\r\n\r\n[[project]]\r\npath = "/b"\r\n'
    assert remove_project(text, 0) == '# c\r\n\r\n[[project]]\r\npath = "/b"\r\n'
    assert remove_project(text, 1) == '# c\r\n\r\n[[project]]\r\npath = "/a"\r\n'


@pytest.mark.parametrize("index", [-1, 2, 10])
def test_remove_out_of_range(index: int) -> None:
    with pytest.raises(IndexError):
        remove_project('[[project]]\npath = "/a"\n[[project]]\npath = "/b"\n', index)


@pytest.mark.parametrize(
    "text",
    [
        'project = [{ path = "/a" }]\n',
        'project.path = "/a"\n',
    ],
)
def test_remove_refuses_projects_that_are_not_tables(text: str) -> None:
    with pytest.raises(ConfigError, match="does not write every project as its own"):
        remove_project(text, 0)


def test_remove_refuses_invalid_toml() -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML \(.*line 2"):
        remove_project('[[project]]\npath = "/a\n', 0)


# --- add and remove are inverses ------------------------------------------------------------

_COMMENT_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=15)
_COMMENT = st.one_of(
    _COMMENT_TEXT.map(lambda t: "#" + t),
    st.sampled_from(["# [[project]]", "  # [defaults]", "#[[project]]", "# path = '/x'"]),
)
_FILLER = st.lists(st.one_of(_COMMENT, st.sampled_from(["", "  "])), max_size=3)
_INLINE = st.sampled_from(["", "  # note", " # [[project]]", "#x"])
_TRICKY_PYTHON = st.sampled_from(
    [
        '"python3"',
        '"[[project]]"',
        "'[x]'",
        '"""\n[[project]]\npath = "/nope"\n"""',
        "'''\n[defaults]\n# not a comment\n'''",
        '"""x \\""" [[project]]\n[[project]]\n"""',
        '""""quoted""""',
        '"""\n# looks attached\n"""',
    ]
)


def _some(lines: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(lines), unique=True)


_DAEMON_LINES = ["settle_seconds = 0.5", 'installer = "uv"', "log_level = 'debug'"]
_SETTINGS_LINES = ['mode = "freeze"', "style = 'pip'", 'initial = "env"', "create_venv = false"]
_HEADERS = {
    "daemon": ["[daemon]", "[ daemon ]", "  [daemon]  # the daemon"],
    "defaults": ["[defaults]", '["defaults"]'],
    "project": ["[[project]]", "[[ project ]]  # one", "  [[project]]", '[["project"]]'],
}


@st.composite
def _section(draw: st.DrawFn, name: str, keys: list[str]) -> list[str]:
    lines = [draw(st.sampled_from(_HEADERS[name]))]
    for key_line in draw(st.permutations(keys)):
        lines += draw(_FILLER)
        lines.append(key_line + draw(_INLINE))
    return lines + draw(_FILLER)


@st.composite
def commented_configs(draw: st.DrawFn) -> tuple[str, int]:
    """A valid config, full of comments and lookalikes; and its number of projects."""
    sections = []
    if draw(st.booleans()):
        sections.append(draw(_section("daemon", draw(_some(_DAEMON_LINES)))))
    if draw(st.booleans()):
        keys = [
            *draw(_some(_SETTINGS_LINES)),
            f"python = {draw(_TRICKY_PYTHON)}",
        ]
        sections.append(draw(_section("defaults", keys)))
    projects = draw(st.integers(0, 3))
    for number in range(projects):
        keys = [f'path = "/existing/{number}"', *draw(_some(_SETTINGS_LINES))]
        if draw(st.booleans()):
            keys.append(f"python = {draw(_TRICKY_PYTHON)}")
        sections.append(draw(_section("project", keys)))
    lines = draw(_FILLER)
    for section in draw(st.permutations(sections)):
        lines += section
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return "".join(line + newline for line in lines), projects


@st.composite
def new_tables(draw: st.DrawFn) -> dict[str, object]:
    """What `venvsyncd add` may write: a path not yet in the config, and some options."""
    name = draw(st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1))
    table: dict[str, object] = {"path": f"/new/{name}"}
    options = {
        "venv": st.sampled_from([".venv", "venvs/app"]),
        "requirements": st.sampled_from(["requirements.txt", "req/dev.txt"]),
        "mode": st.sampled_from(MODES),
        "style": st.sampled_from(STYLES),
        "create_venv": st.booleans(),
    }
    for key in draw(st.lists(st.sampled_from(sorted(options)), unique=True)):
        table[key] = draw(options[key])
    return table


@given(commented_configs(), new_tables())
def test_remove_undoes_add(config: tuple[str, int], table: dict[str, object]) -> None:
    text, projects = config
    before = parse_config(text, CONFIG)
    added = add_project(text, table)
    assert added.startswith(text)
    after = parse_config(added, CONFIG)
    assert after.projects[:-1] == before.projects
    assert len(after.projects) == projects + 1
    assert remove_project(added, projects) == text


@given(commented_configs(), st.data())
def test_remove_takes_out_one_project_and_keeps_the_rest(
    config: tuple[str, int], data: st.DataObject
) -> None:
    text, projects = config
    if projects == 0:
        return
    index = data.draw(st.integers(0, projects - 1))
    before = parse_config(text, CONFIG)
    after = parse_config(remove_project(text, index), CONFIG)
    assert after.projects == before.projects[:index] + before.projects[index + 1 :]
    assert (after.daemon, after.defaults) == (before.daemon, before.defaults)


# --- save -----------------------------------------------------------------------------------


def test_save_creates_the_folder_and_writes_the_text(tmp_path: Path) -> None:
    config_file = tmp_path / "a" / "b" / "config.toml"
    text = add_project("# mine\r\n", {"path": "/srv/app"})
    save_config_text(config_file, text)
    assert config_file.read_bytes() == text.encode()
    assert load_config(config_file).projects[0].path == Path("/srv/app")


def test_save_refuses_an_invalid_config_and_leaves_the_file(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text("# old\n")
    with pytest.raises(ConfigError, match=r"project\[1\]\.mode: 'fast' is not one of"):
        save_config_text(config_file, add_project("# old\n", {"path": "/a", "mode": "fast"}))
    with pytest.raises(ConfigError, match="not valid TOML"):
        save_config_text(config_file, "[[project]\n")
    assert config_file.read_text() == "# old\n"
    assert list(tmp_path.glob(".config.toml.*")) == []  # no temporary file left


def test_save_keeps_the_file_mode(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text("")
    config_file.chmod(0o600)
    save_config_text(config_file, add_project("", {"path": "/a"}))
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600


def test_save_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        save_config_text(tmp_path / "config.toml", add_project("", {"path": "/caf\udce9"}))
    assert not (tmp_path / "config.toml").exists()


def test_save_where_the_folder_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(VenvsyncdError, match=r"file/config.toml: cannot be written \(") as info:
        save_config_text(tmp_path / "file" / "config.toml", "")
    assert info.value.exit_code == 1


def test_add_and_remove_through_the_file(tmp_path: Path, isolated_home: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_bytes(REALISTIC.replace("\n", "\r\n").encode())
    original = config_file.read_bytes()
    text = original.decode()
    save_config_text(config_file, add_project(text, {"path": str(tmp_path / "new")}))
    config = load_config(config_file)
    entry = config.find(tmp_path / "new")
    assert entry is not None
    index = config.projects.index(entry)
    save_config_text(config_file, remove_project(config_file.read_bytes().decode(), index))
    assert config_file.read_bytes() == original

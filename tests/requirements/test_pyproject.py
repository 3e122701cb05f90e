"""pyproject.toml as the requirements file: what is read of it, what is refused (one message
naming the key), and edits that keep every other byte (requirements/pyproject*.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venvsyncd.env.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.requirements.edit import EnvDelta
from venvsyncd.requirements.pyproject import MAIN, parse_pyproject
from venvsyncd.requirements.pyproject_edit import edit_pyproject, moved_entry, new_entry

SOURCE = Path("/p/pyproject.toml")
MARKERS = {"python_version": "3.12", "sys_platform": "linux", "platform_system": "Linux"}

COMMENTED = """\
[build-system]
requires = ["hatchling"]

[project]
name = "app"  # the app
version = "0.1"
dependencies = [
    # the web part
    "flask >= 3.0",   # the framework
    'requests[socks]==2.31.0 ; python_version >= "3.8"',
    "zope.interface",
]

[dependency-groups]
test = ["pytest>=8"]
dev = [{include-group = "test"}, "ruff"]

[tool.other]
x = 1  # kept
"""


def dist(name: str, version: str, url: str | None = None) -> FrozenDist:
    from packaging.utils import canonicalize_name

    return FrozenDist(canonicalize_name(name), name, version, (f"{name}=={version}",), url=url)


def edited(text: str, pin: str = ">=", **shares: EnvDelta) -> str:
    pyproject = parse_pyproject(text.encode(), SOURCE)
    keyed = {MAIN if key == "main" else key: delta for key, delta in shares.items()}
    return edit_pyproject(pyproject, keyed, pin, MARKERS).decode()


def test_the_arrays_are_read_as_the_planner_reads_files() -> None:
    pyproject = parse_pyproject(COMMENTED.encode(), SOURCE)
    assert pyproject.arrays == {
        MAIN: (
            "flask >= 3.0",
            'requests[socks]==2.31.0 ; python_version >= "3.8"',
            "zope.interface",
        ),
        "test": ("pytest>=8",),
        "dev": ("ruff",),
    }
    assert pyproject.includes == {"test": (), "dev": ("test",)}
    assert pyproject.dev_group() == "dev"
    top, groups = pyproject.as_files()
    assert [line.name for line in top.requirements()] == ["flask", "requests", "zope-interface"]
    assert [[line.name for line in g.requirements()] for g in groups] == [["pytest"], ["ruff"]]


def test_a_new_package_is_one_line_and_nothing_else_changes() -> None:
    after = edited(COMMENTED, main=EnvDelta(added=(dist("httpx", "0.28.1"),)))
    framework = '    "flask >= 3.0",   # the framework\n'
    assert after == COMMENTED.replace(framework, framework + '    "httpx>=0.28.1",\n')
    pinned = edited(COMMENTED, "==", main=EnvDelta(added=(dist("httpx", "0.28.1"),)))
    assert framework + '    "httpx==0.28.1",\n' in pinned


def test_a_dev_tool_goes_to_its_group_and_a_removal_takes_its_comment() -> None:
    after = edited(
        COMMENTED,
        dev=EnvDelta(added=(dist("mypy", "1.13.0"),)),
        main=EnvDelta(removed=("flask",)),
    )
    expected = COMMENTED.replace('    "flask >= 3.0",   # the framework\n', "").replace(
        'dev = [{include-group = "test"}, "ruff"]',
        'dev = [{include-group = "test"}, "mypy>=1.13.0", "ruff"]',  # sorted: kept so
    )
    assert after == expected


def test_sorted_arrays_stay_sorted_and_literal_strings_stay_literal() -> None:
    text = "[project]\nname = 'x'\ndependencies = [\n  'alpha',\n  'gamma',\n]\n"
    after = edited(text, main=EnvDelta(added=(dist("Beta", "1.0"),)))
    assert (
        after
        == "[project]\nname = 'x'\ndependencies = [\n  'alpha',\n  'Beta>=1.0',\n  'gamma',\n]\n"
    )


def test_a_file_without_arrays_gets_them() -> None:
    text = '[project]\nname = "x"\nversion = "1"\n\n[tool.x]\ny = 1\n'
    after = edited(
        text,
        main=EnvDelta(added=(dist("alpha", "1.0"),)),
        dev=EnvDelta(added=(dist("ruff", "0.8"),)),
    )
    assert parse_pyproject(after.encode(), SOURCE).arrays == {
        MAIN: ("alpha>=1.0",),
        "dev": ("ruff>=0.8",),
    }
    assert after.startswith(
        '[project]\nname = "x"\nversion = "1"\ndependencies = [\n    "alpha>=1.0",\n]\n'
    )
    assert "[tool.x]\ny = 1\n" in after


def test_crlf_and_a_bom_are_kept() -> None:
    text = '\ufeff[project]\r\nname = "x"\r\ndependencies = [\r\n    "alpha",\r\n]\r\n'
    after = edited(text, main=EnvDelta(added=(dist("beta", "1.0"),)))
    assert after == text.replace('"alpha",\r\n', '"alpha",\r\n    "beta>=1.0",\r\n')


@pytest.mark.parametrize(
    ("entry", "version", "moved"),
    [
        ("flask>=3.0", "3.1.0", "flask>=3.0"),  # the range still holds: kept
        ("flask >= 3.0", "2.3.0", "flask >= 2.3.0"),  # the user's operator and spacing
        ("flask==3.0.0", "3.1.0", "flask==3.1.0"),
        (
            'flask[async]<3 ; python_version >= "3.8"',
            "3.1.0",
            'flask[async]>=3.1.0 ; python_version >= "3.8"',
        ),
        ("flask (>=3.0)", "2.0", "flask (>=2.0)"),
        ("flask~=3.0", "4.0", "flask>=4.0"),
        ("flask>=1,<2", "2.1", "flask>=2.1"),
    ],
)
def test_a_moved_package_s_entry(entry: str, version: str, moved: str) -> None:
    assert moved_entry(entry, dist("flask", version), ">=") == moved


def test_url_installs_are_direct_references() -> None:
    url = "git+https://example.org/flask@0123abcd"
    assert new_entry(dist("flask", "3.0", url), ">=") == f"flask @ {url}"
    assert moved_entry('flask; sys_platform == "linux"', dist("flask", "3.0", url), ">=") == (
        'flask; sys_platform == "linux"'  # still met
    )
    assert moved_entry('flask>=9; sys_platform == "linux"', dist("flask", "3.0", url), ">=") == (
        f'flask @ {url} ; sys_platform == "linux"'
    )
    assert moved_entry(f"flask @ {url}", dist("flask", "3.1"), "==") == "flask==3.1"
    assert new_entry(dist("odd", "1.0-local.weird+x"), ">=").startswith("odd")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[project\nname='x'", "not valid TOML"),
        ('[project]\ndynamic = ["dependencies"]\n', "dynamic"),
        ('[project]\ndependencies = ["flask", "not a req!"]\n', "project.dependencies[1]"),
        ('[project]\ndependencies = "flask"\n', "project.dependencies must be an array"),
        ('[dependency-groups]\ndev = [{include-group = "nope"}]\n', "'nope'"),
        (
            '[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n',
            "a -> b -> a",
        ),
        ("[dependency-groups]\ndev = [{x = 1}]\n", "dependency-groups.dev"),
        ("[dependency-groups]\nDev = []\ndev = []\n", "repeats"),
    ],
)
def test_what_is_refused_names_the_key(text: str, names: str) -> None:
    with pytest.raises(ProjectError) as caught:
        parse_pyproject(text.encode(), SOURCE)
    assert str(SOURCE) in str(caught.value)
    assert names in str(caught.value)


_ENTRY = st.sampled_from(["alpha", "beta>=1", "'gamma'", '"delta==2"', "'epsilon'  # pin"])


@settings(max_examples=60, deadline=None)
@given(st.lists(_ENTRY, max_size=5, unique=True), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_only_the_array_changes(entries: list[str], newline: str, inline: bool) -> None:
    """Whatever the array's layout, adding a package leaves every byte outside it alone and
    the result reads as the array plus the package."""
    quoted = [e if e.startswith(("'", '"')) else f'"{e}"' for e in entries]
    if inline:
        array = "[" + ", ".join(q.split("  #")[0] for q in quoted) + "]"
    else:
        body = "".join(
            f"    {q.replace('  #', ',  #') if '#' in q else q + ','}{newline}" for q in quoted
        )
        array = f"[{newline}{body}]"
    head = f'# top{newline}[project]{newline}name = "x"{newline}dependencies = '
    tail = f"{newline}{newline}[tool.y]{newline}z = 1  # end{newline}"
    text = head + array + tail
    after = edited(text, main=EnvDelta(added=(dist("zulu", "1.0"),)))
    assert after.startswith(head)
    assert after.endswith(tail)
    read = parse_pyproject(after.encode(), SOURCE).arrays[MAIN]
    before = parse_pyproject(text.encode(), SOURCE).arrays[MAIN]
    assert read == (*before, "zulu>=1.0")
    assert "# pin" in after or "# pin" not in text

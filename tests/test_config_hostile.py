"""Hostile config files through the real command line: generated TOML text and values.

`venvsyncd list` (and `add`, which edits the file) must exit 0 when the config happens to be
valid and 2 with a `venvsyncd: error:` message naming it when not: never a traceback, never
another exit code, and a refused `add` leaves the file as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from venvsyncd.cli import main

pytestmark = pytest.mark.reliability
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KNOWN = {
    "daemon": ["settle_seconds", "installer", "log_level"],
    "settings": ["mode", "style", "initial", "create_venv", "python", "trust"],
    "project": ["path", "venv", "requirements"],
}
WORDS = ["both", "freeze", "install", "preserve", "pip", "uv", "auto", "ask", "env", "file"]
WORDS += ["pins", "all", "none"]
WORDS += ["info", "debug", "python3", "3.12", ".venv", "requirements.txt", "~/code/app"]
PATHS = ["~", "~nobody/x", "/", ".", "..", "/proc/self/fd/0", "/dev/null", "a" * 300]
PATHS += ["/" + "b" * 5000, "x/" * 3000, "\u00e9t\u00e9", "\U0001f600", "a\\b", "//x", " "]

scalars = st.one_of(
    st.sampled_from(WORDS + PATHS),
    st.text(max_size=30),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(),
    st.dates(),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def _table(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    known = st.sampled_from(keys)
    key = st.one_of(known, known, known, st.text(max_size=12))  # mostly real keys
    value = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), values)
    return st.dictionaries(key, value, max_size=5)


documents = st.fixed_dictionaries(
    {},
    optional={
        "daemon": _table(KNOWN["daemon"]) | values,
        "defaults": _table(KNOWN["settings"]) | values,
        "project": st.lists(_table(KNOWN["project"] + KNOWN["settings"]), max_size=3) | values,
    },
).flatmap(lambda doc: st.dictionaries(st.text(max_size=8), values, max_size=1).map(doc.__or__))


def _config() -> Path:
    path = Path(os.environ["VENVSYNCD_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    return code, err.getvalue()


def _check(data: bytes, project: Path) -> None:
    config = _config()
    config.write_bytes(data)
    for argv in (["list"], ["list", "--json"], ["add", str(project)]):
        before = config.read_bytes()
        code, err = _run(*argv)
        assert "Traceback" not in err, (argv, err)
        assert code in (0, 2), (argv, code, err)
        if code == 2:
            assert err.startswith("venvsyncd: error: ") and "\nhint: " in err, (argv, err)
            assert config.read_bytes() == before, argv


def _dumps(document: dict[str, Any]) -> bytes | None:
    try:
        return tomli_w.dumps(document).encode()
    except (TypeError, ValueError):  # a value TOML cannot hold
        return None


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir(exist_ok=True)
    (folder / "requirements.txt").touch()
    return folder


@SETTINGS
@given(document=documents)
def test_generated_values(document: dict[str, Any], project: Path) -> None:
    data = _dumps(document)
    if data is not None:
        _check(data, project)


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from("[]{}=\"'#.,\n\t abc1-_~\\"), max_size=80))
def test_generated_toml_punctuation(text: str, project: Path) -> None:
    _check(text.encode(), project)


@SETTINGS
@given(data=st.binary(max_size=200))
def test_generated_bytes(data: bytes, project: Path) -> None:
    _check(data, project)


@pytest.mark.parametrize(
    "text",
    [
        "[daemon]\nsettle_seconds = 1e400\n",
        "[daemon]\nsettle_seconds = nan\n",
        "[daemon]\nsettle_seconds = -0.0\n",
        "[daemon]\nsettle_seconds = 9223372036854775807\n",
        '[[project]]\npath = "' + "p" * 5000 + '"\n',
        '[[project]]\npath = "' + "d/" * 3000 + '"\n',
        '[[project]]\npath = "~nosuchuser/app"\n',
        '[[project]]\npath = "/proc/self/fd/0"\n',
        '[[project]]\npath = "."\nvenv = "' + "v" * 5000 + '"\n',
        '[[project]]\npath = "."\nrequirements = "/dev/null"\n',
        "project = 1\n",
        "[[project]]\n[[project.x]]\n",
        "a = " + "[" * 5000 + "]" * 5000 + "\n",
        "[defaults]\npython = 3.12\n",
    ],
)
def test_known_hostile_values(text: str, project: Path) -> None:
    _check(text.encode(), project)

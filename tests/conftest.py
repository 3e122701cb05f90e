"""Test isolation and the real-world fixtures every test builds on.

Isolation: the whole session runs with `HOME`, `XDG_*`, `VENVSYNCD_CONFIG`, `PIP_*` and `UV_*`
pointed at temporary places (pip and uv see only the offline wheelhouse), and the session
fails loudly if venvsyncd's real config, state or runtime folders changed while it ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from testing.tools import Tool, fake_bin
from testing.venvs import REAL_HOME, SETTLE
from testing.wheelhouse import build_standard

pytest_plugins = ["testing.winehost"]  # the `windows_python` session fixture

if TYPE_CHECKING:
    from testing.daemonproc import DaemonProcess

_REAL_DIRS = (
    REAL_HOME / ".config" / "venvsyncd",
    REAL_HOME / ".local" / "state" / "venvsyncd",
    Path(f"/run/user/{os.getuid()}/venvsyncd") if hasattr(os, "getuid") else REAL_HOME,
)
_CLEARED_PREFIXES = ("PIP_", "UV_", "VENVSYNCD_", "XDG_")
_CLEARED_VARS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "NOTIFY_SOCKET", "JOURNAL_STREAM")


def _real_dirs_state() -> list[tuple[str, float | None]]:
    return [(str(d), d.stat().st_mtime if d.exists() else None) for d in _REAL_DIRS]


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared offline wheelhouse (see testing/wheelhouse.py for what is in it)."""
    return build_standard(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="session", autouse=True)
def isolated_session(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[None]:
    before = _real_dirs_state()
    caches = tmp_path_factory.mktemp("caches")
    with pytest.MonkeyPatch.context() as mp:
        for var in list(os.environ):
            if var.startswith(_CLEARED_PREFIXES) or var in _CLEARED_VARS:
                mp.delenv(var)
        mp.setenv("PIP_CONFIG_FILE", os.devnull)  # no pip.conf of this machine's
        mp.setenv("PIP_NO_INDEX", "1")
        mp.setenv("PIP_FIND_LINKS", str(wheelhouse))
        mp.setenv("PIP_NO_INPUT", "1")
        mp.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        mp.setenv("PIP_CACHE_DIR", str(caches / "pip"))
        mp.setenv("UV_NO_CONFIG", "1")
        mp.setenv("UV_OFFLINE", "1")
        mp.setenv("UV_NO_INDEX", "1")
        mp.setenv("UV_FIND_LINKS", str(wheelhouse))
        mp.setenv("UV_CACHE_DIR", str(caches / "uv"))
        mp.setenv("UV_PYTHON_DOWNLOADS", "never")
        mp.setenv("GIT_CONFIG_GLOBAL", os.devnull)  # no git config of this machine's
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for role in ("AUTHOR", "COMMITTER"):
            mp.setenv(f"GIT_{role}_NAME", "venvsyncd tests")
            mp.setenv(f"GIT_{role}_EMAIL", "tests@venvsyncd.invalid")
        yield
    after = _real_dirs_state()
    assert before == after, f"tests touched venvsyncd's real folders: {before} -> {after}"


@pytest.fixture(autouse=True)
def isolated_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh HOME with XDG dirs and VENVSYNCD_CONFIG under it, for every test."""
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    for folder in (home, runtime):
        folder.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("VENVSYNCD_CONFIG", str(home / ".config" / "venvsyncd" / "config.toml"))
    return home


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def config(isolated_home: Path) -> Path:
    """The config file: a short settle time and pip as the installer, no projects."""
    path = Path(os.environ["VENVSYNCD_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[daemon]\nsettle_seconds = {SETTLE}\ninstaller = "pip"\n')
    return path


@pytest.fixture
def daemon_factory(config: Path) -> Iterator[list[DaemonProcess]]:
    """A list to put started daemons in (see `daemonproc.start`); all stopped at the end."""
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        daemon.stop()


@pytest.fixture
def fake_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tool:
    """See `testing.tools.fake_bin`."""
    return fake_bin(tmp_path, monkeypatch)

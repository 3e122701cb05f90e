"""Test isolation and the real-world fixtures every test builds on.

Isolation: the whole session runs with `HOME`, `XDG_*`, `VENVSYNCD_CONFIG`, `PIP_*` and `UV_*`
pointed at temporary places (pip and uv see only the offline wheelhouse), and the session
fails loudly if venvsyncd's real config, state or runtime folders changed while it ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uv

from tests.wheelhouse import build_standard
from venvsyncd.env.venvs import Venv, load_venv

if TYPE_CHECKING:
    from tests.daemonproc import DaemonProcess

REAL_HOME = Path.home()
_REAL_DIRS = (
    REAL_HOME / ".config" / "venvsyncd",
    REAL_HOME / ".local" / "state" / "venvsyncd",
    Path(f"/run/user/{os.getuid()}/venvsyncd") if hasattr(os, "getuid") else REAL_HOME,
)
_CLEARED_PREFIXES = ("PIP_", "UV_", "VENVSYNCD_", "XDG_")
_CLEARED_VARS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "NOTIFY_SOCKET", "JOURNAL_STREAM")
UV = uv.find_uv_bin()
SETTLE = 0.3  # settle_seconds of the `config` fixture: quick, yet longer than a save


def _real_dirs_state() -> list[tuple[str, float | None]]:
    return [(str(d), d.stat().st_mtime if d.exists() else None) for d in _REAL_DIRS]


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared offline wheelhouse (see tests/wheelhouse.py for what is in it)."""
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


def run(
    args: Sequence[str | os.PathLike[str]], **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output when it exits non-zero."""
    proc = subprocess.run(
        [os.fspath(a) for a in args],
        capture_output=True,
        text=True,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    if proc.returncode != 0:
        pytest.fail(f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc  # type: ignore[no-any-return]


def make_venv(root: Path, *packages: str, python: str | None = None) -> Venv:
    """A real venv at `root` with a current pip (seeded offline) and `packages` installed by pip."""
    run([python or sys.executable, "-m", "venv", "--without-pip", root])
    venv = load_venv(root)
    run([UV, "pip", "install", "--python", venv.python, "pip"])
    if packages:
        pip(venv, "install", *packages)
    return venv


def pip(venv: Venv, *args: str) -> subprocess.CompletedProcess[str]:
    return run([venv.python, "-m", "pip", *args])


def pip_freeze(venv: Venv) -> str:
    return pip(venv, "freeze").stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def which_python(minor: str) -> str | None:
    """`python3.X` on PATH or in a pyenv install, or None."""
    found = shutil.which(f"python{minor}")
    if found and subprocess.run([found, "-c", ""], capture_output=True).returncode == 0:
        return found
    pyenv = Path(os.environ.get("PYENV_ROOT", REAL_HOME / ".pyenv")) / "versions"
    candidates = sorted(pyenv.glob(f"{minor}.*/bin/python{minor}")) if pyenv.is_dir() else []
    return str(candidates[-1]) if candidates else None


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

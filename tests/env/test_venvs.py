"""Project resolution: which venv, which layout, what pyvenv.cfg says."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from testing.venvs import run
from venvsyncd.env.venvs import cfg_version, find_venv, load_venv, marker_environment
from venvsyncd.errors import ProjectError


def fake_venv(root: Path, cfg: str, windows: bool = False, version: str = "3.11") -> Path:
    root.mkdir(parents=True)
    (root / "pyvenv.cfg").write_text(cfg)
    if windows:
        (root / "Scripts").mkdir()
        (root / "Lib" / "site-packages").mkdir(parents=True)
    else:
        (root / "bin").mkdir()
        (root / "lib" / f"python{version}" / "site-packages").mkdir(parents=True)
    return root


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        ((".venv", "venv", "env"), ".venv"),
        (("venv", "env"), "venv"),
        (("env",), "env"),
        ((), None),
    ],
)
def test_candidates_in_order(
    tmp_path: Path, present: tuple[str, ...], expected: str | None
) -> None:
    for name in present:
        fake_venv(tmp_path / name, "home = /usr/bin\nversion = 3.11.7\n")
    (tmp_path / "venv-without-cfg").mkdir()
    found = find_venv(tmp_path)
    assert found == (None if expected is None else tmp_path / expected)


def test_folder_without_pyvenv_cfg_is_not_a_venv(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    fake_venv(tmp_path / "env", "version = 3.11.7\n")
    assert find_venv(tmp_path) == tmp_path / "env"


def test_configured_venv_wins(tmp_path: Path) -> None:
    fake_venv(tmp_path / ".venv", "version = 3.11.7\n")
    assert find_venv(tmp_path, "envs/py311") == tmp_path / "envs" / "py311"


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        ("version = 3.11.7\n", (3, 11, 7)),
        ("version_info = 3.12.1\n", (3, 12, 1)),
        ("version_info = 3.13.0.final.0\n", (3, 13, 0)),
        ("version = 3.9\n", (3, 9, 0)),
        ("home = /usr/bin\n", None),
    ],
)
def test_cfg_version(cfg: str, expected: tuple[int, int, int] | None) -> None:
    key, _, value = cfg.partition("=")
    assert cfg_version({key.strip(): value.strip()}) == expected


def test_posix_layout(tmp_path: Path) -> None:
    root = fake_venv(
        tmp_path / "v",
        "home = /opt/py/bin\ninclude-system-site-packages = true\nversion = 3.11.7\n",
    )
    venv = load_venv(root)
    assert not venv.windows_layout
    assert venv.site_packages == root / "lib" / "python3.11" / "site-packages"
    assert venv.python == root / "bin" / "python"
    assert venv.include_system_site_packages and venv.home == Path("/opt/py/bin")
    assert venv.version_text == "3.11.7"


def test_windows_layout(tmp_path: Path) -> None:
    cfg = "home = C:\\Python312\nversion = 3.12.1\ninclude-system-site-packages = false\n"
    root = fake_venv(tmp_path / "v", cfg, windows=True)
    venv = load_venv(root)
    assert venv.windows_layout
    assert venv.site_packages == root / "Lib" / "site-packages"
    assert venv.python == root / "Scripts" / "python.exe"
    assert not venv.include_system_site_packages


def test_real_venv(tmp_path: Path) -> None:
    run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "v"])
    venv = load_venv(tmp_path / "v")
    assert venv.version == sys.version_info[:3]
    assert venv.site_packages.is_dir() and venv.python.exists()


def test_missing_and_broken_venvs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"no pyvenv\.cfg"):
        load_venv(tmp_path)
    (tmp_path / "pyvenv.cfg").write_text("version = 3.11.7\n")
    with pytest.raises(ProjectError, match="no site-packages"):
        load_venv(tmp_path)


def test_marker_environment_follows_the_venv_python(tmp_path: Path) -> None:
    root = fake_venv(tmp_path / "v", "version = 3.12.1\nimplementation = PyPy\n", version="3.12")
    env = marker_environment(load_venv(root))
    assert env["python_version"] == "3.12" and env["python_full_version"] == "3.12.1"
    assert env["implementation_name"] == "pypy"

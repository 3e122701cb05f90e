"""Fixtures the engine's tests share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.venvs import UV
from testing.wheelhouse import build_wheel


@pytest.fixture(params=["pip", "uv"])
def installer(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> str:
    """Each test twice: the config's installer is pip, then uv (on PATH)."""
    monkeypatch.setenv("PATH", f"{Path(UV).parent}{os.pathsep}{os.environ['PATH']}")
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[daemon]\ninstaller = "{request.param}"\n')
    return str(request.param)


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """Wheels of a test runner (it brings pluggy), a stub package and a library, offline:
    the dev tools and the main-file package of the dev-file and pyproject tests."""
    folder = tmp_path / "tools"
    folder.mkdir()
    build_wheel(folder, "pytest", "99.0", requires=["pluggy"])
    build_wheel(folder, "pluggy", "9.0")
    build_wheel(folder, "types-requests", "2.0")
    build_wheel(folder, "libthing", "1.0")
    return folder

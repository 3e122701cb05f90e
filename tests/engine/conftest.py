"""Fixtures the engine's tests share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.venvs import UV


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

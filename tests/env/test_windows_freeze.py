"""venvsyncd's freeze of a Windows venv against real `pip freeze` of the real Windows CPython.

The venv is a Windows-layout one (`Scripts\\python.exe`, `Lib\\site-packages`) made and filled
under wine by CPython 3.13 for Windows and its pip (testing/winehost.py). venvsyncd freezes it
twice: from Linux, and under wine as `python.exe -m venvsyncd freeze`.

pip on Windows writes its stdout in text mode, so its lines end in CRLF, and Linux venvsyncd's
end in LF: that comparison turns CRLF into LF and nothing else (a stray CR fails it). Under wine
both sides are Windows programs, both write CRLF, and they are compared byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from testing.winehost import WindowsPython
from venvsyncd.cli import main

pytestmark = [pytest.mark.windows, pytest.mark.slow]
PACKAGES = ("alpha", "beta", "Foo_Bar", "zeta.dots")  # beta needs alpha; names to normalise


class FrozenProject(NamedTuple):
    folder: Path  # the project folder; its venv is `.venv`
    pip_freeze: str  # `.venv\Scripts\python.exe -m pip freeze`, CRLF as pip wrote it


@pytest.fixture(scope="module")
def frozen_project(
    tmp_path_factory: pytest.TempPathFactory, windows_python: WindowsPython
) -> FrozenProject:
    folder = tmp_path_factory.mktemp("winproject")
    venv = windows_python.make_venv(folder / ".venv")
    windows_python.pip(venv, "install", *PACKAGES)
    frozen = windows_python.pip(venv, "freeze", cwd=folder).stdout
    names = {line.partition("==")[0] for line in frozen.splitlines()}
    assert names >= {"alpha", "beta"}, f"pip froze {frozen!r}: not what was installed"
    return FrozenProject(folder, frozen)


def test_linux_freeze_of_a_windows_venv_is_pips(
    frozen_project: FrozenProject, capsys: pytest.CaptureFixture[str]
) -> None:
    pips = frozen_project.pip_freeze.replace("\r\n", "\n")
    assert "\r" not in pips, f"a CR that is not a line end: {frozen_project.pip_freeze!r}"
    assert main(["freeze", str(frozen_project.folder)]) == 0
    assert capsys.readouterr().out == pips


def test_windows_freeze_under_wine_is_pips(
    frozen_project: FrozenProject, windows_python: WindowsPython
) -> None:
    windows_python.install_project(windows_python.base)
    argv: list[str | Path] = [windows_python.python, "-m", "venvsyncd", "freeze"]
    freeze = windows_python.run(
        [*argv, frozen_project.folder],
        cwd=frozen_project.folder,
    )
    assert freeze.stdout == frozen_project.pip_freeze

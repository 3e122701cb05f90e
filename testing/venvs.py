"""Real venvs for tests, offline: made with the running Python, pip seeded from the session
wheelhouse, and commands that fail the test with their output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import uv

from venvsyncd.env.venvs import Venv, load_venv

REAL_HOME = Path.home()  # taken at import, before a test session points HOME elsewhere
UV = uv.find_uv_bin()
SETTLE = 0.3  # settle_seconds of the tests' config: quick, yet longer than a save


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


def user_install(venv: Venv, installer: str, links: Path, *args: str) -> None:
    """`pip install` or `uv pip install` of `args` into `venv` as a user runs it, finding
    wheels in `links` too (beside the session's wheelhouse)."""
    found = ["--find-links", str(links)]
    if installer == "uv":  # its --find-links replaces the session's UV_FIND_LINKS
        found += ["--find-links", os.environ["UV_FIND_LINKS"]]
        run([UV, "pip", "install", "--python", venv.python, *found, *args])
    else:
        pip(venv, "install", *found, *args)


def which_python(minor: str) -> str | None:
    """`python3.X` on PATH or in a pyenv install, or None."""
    found = shutil.which(f"python{minor}")
    if found and subprocess.run([found, "-c", ""], capture_output=True).returncode == 0:
        return found
    pyenv = Path(os.environ.get("PYENV_ROOT", REAL_HOME / ".pyenv")) / "versions"
    candidates = sorted(pyenv.glob(f"{minor}.*/bin/python{minor}")) if pyenv.is_dir() else []
    return str(candidates[-1]) if candidates else None


def dist_info(venv: Venv, name: str) -> Path:
    """The `.dist-info` folder of `name` in the venv's site-packages."""
    return next(venv.site_packages.glob(f"{name}-*.dist-info"))


def remade_dist_info(venv: Venv, name: str, spelled: str) -> None:
    """`name`'s `.dist-info` made anew under the same folder name (as uv reinstalls), its
    METADATA spelling the name `spelled`."""
    info = dist_info(venv, name)
    copy = info.with_name(f"{name}-copy")
    shutil.copytree(info, copy)
    metadata = (copy / "METADATA").read_text().replace(f"Name: {name}", f"Name: {spelled}")
    (copy / "METADATA").write_text(metadata)
    shutil.rmtree(info)
    copy.rename(info)

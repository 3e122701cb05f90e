"""Hand a delta to pip or uv, and create venvs.

All subprocesses go through `commands.run_command`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from venvsyncd.env.commands import CommandError, run_command
from venvsyncd.env.venvs import Venv, load_venv
from venvsyncd.errors import ProjectError
from venvsyncd.system.locks import holding

INSTALL_TIMEOUT = 3600.0
_VERSION_SPEC = re.compile(r"^\d+(\.\d+){0,2}$")


@dataclass(frozen=True)
class Installer:
    """`pip` (the venv's own, as `<venv python> -m pip`) or `uv` (`uv pip --python ...`)."""

    kind: str
    uv: str | None = None

    def install_argv(self, venv: Venv, args: Sequence[str], wheels_only: bool = False) -> list[str]:
        """The install command; `wheels_only`: never build from source (pip `--only-binary
        :all:`, uv `--no-build`), so no code of a package runs during the install."""
        if self.uv is not None:
            flags = ["--no-build"] if wheels_only else []
            return [self.uv, "pip", "install", "--python", str(venv.python), *flags, *args]
        # Last: pip's format options are read in order, so a `--no-binary` of the file's (or
        # of one of its lines) given before cannot undo it.
        flags = ["--only-binary", ":all:"] if wheels_only else []
        return [str(venv.python), "-m", "pip", "install", *args, *flags]

    def uninstall_argv(self, venv: Venv, names: Sequence[str]) -> list[str]:
        if self.uv is not None:
            return [self.uv, "pip", "uninstall", "--python", str(venv.python), *names]
        return [str(venv.python), "-m", "pip", "uninstall", "--yes", *names]


def choose_installer(setting: str) -> Installer:
    """The config's `installer`: "pip", "uv" (which must be on PATH), or "auto"."""
    uv = shutil.which("uv")
    if setting == "uv" and uv is None:
        raise ProjectError(
            'installer = "uv" but no uv is on PATH',
            hint='install uv (pip install uv) or set installer = "pip" in [daemon]',
        )
    if setting in ("uv", "auto") and uv is not None:
        return Installer("uv", uv)
    return Installer("pip")


@contextlib.contextmanager
def venv_lock(venv: Venv, installer: Installer) -> Iterator[None]:
    """Hold uv's own `<venv>/.lock` flock, so a user's uv waits while venvsyncd's pip runs.

    uv takes that lock itself for its whole run, so it is not held around a uv command
    (holding it would make our own uv wait for us forever).
    """
    if installer.uv is not None:
        yield
        return
    with holding(venv.root / ".lock"):
        yield


def install(
    installer: Installer, venv: Venv, args: Sequence[str], cwd: Path, wheels_only: bool = False
) -> str:
    """Install `args` (requirement strings and the file's options); the installer's output."""
    if not args:
        return ""
    argv = installer.install_argv(venv, args, wheels_only)
    with venv_lock(venv, installer):
        return run_command(argv, cwd=cwd, timeout=INSTALL_TIMEOUT)


def uninstall(installer: Installer, venv: Venv, names: Sequence[str]) -> str:
    if not names:
        return ""
    with venv_lock(venv, installer):
        return run_command(installer.uninstall_argv(venv, names), timeout=INSTALL_TIMEOUT)


def find_python(spec: str) -> str:
    """The interpreter for a `python` setting: "3.12", a name on PATH, or a path."""
    if _VERSION_SPEC.match(spec):
        if sys.platform == "win32" and shutil.which("py"):
            return _checked(["py", f"-{spec}"], spec)[0]
        candidate = shutil.which(f"python{spec}")
        looked = f"python{spec} on PATH"
    elif os.sep in spec or (os.altsep and os.altsep in spec):
        candidate = spec if Path(spec).expanduser().is_file() else None
        looked = spec
    else:
        candidate = shutil.which(spec)
        looked = f"{spec} on PATH"
    if candidate is None:
        raise ProjectError(
            f"no Python interpreter for python = {spec!r} (looked for {looked})",
            hint="install that Python, or set `python` in the config to one that exists",
        )
    return _checked([candidate], spec)[0]


def _checked(argv: list[str], spec: str) -> list[str]:
    """`argv` if it starts a Python that can make venvs (pyenv shims may exist but fail)."""
    try:
        run_command([*argv, "-c", "import venv"], timeout=60)
    except CommandError as exc:
        raise ProjectError(
            f"python = {spec!r}: {' '.join(argv)} does not run ({exc.output.strip()[:200]})",
            hint="install that Python, or set `python` in the config to one that works",
        ) from exc
    return argv


def create_venv(root: Path, python_spec: str) -> Venv:
    """`<python> -m venv root`, with the interpreter the project's `python` setting names."""
    python = find_python(python_spec)
    argv = ["py", f"-{python_spec}"] if python == "py" else [python]
    run_command([*argv, "-m", "venv", str(root)], timeout=600)
    return load_venv(root)

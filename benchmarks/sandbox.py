"""A throw-away world for one benchmark run: HOME, XDG dirs, pip and uv all point into it.

Like tests/conftest.py: pip and uv see only the generated wheelhouse (no index, no config of
this machine's), venvsyncd's config, state and socket live under the sandbox, and the real
home is never touched. The settings go into `os.environ`, so in-process engine calls and
every child process (installers, the daemon, the CLI) see the same world.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_CLEARED_PREFIXES = ("PIP_", "UV_", "VENVSYNCD_", "XDG_")
_CLEARED_VARS = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONDONTWRITEBYTECODE",  # whole processes are timed with bytecode, as installed
    "PYTHONPYCACHEPREFIX",
    "VIRTUAL_ENV",
    "NOTIFY_SOCKET",
    "JOURNAL_STREAM",
)


class BenchError(RuntimeError):
    """A command or a correctness check failed: the numbers would mean nothing."""


@dataclass(frozen=True)
class Sandbox:
    root: Path
    wheelhouse: Path
    uv: str | None  # the uv binary, when there is one

    @property
    def config(self) -> Path:
        return Path(os.environ["VENVSYNCD_CONFIG"])

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def find_uv() -> str | None:
    """uv from the `uv` Python package, else from PATH."""
    if importlib.util.find_spec("uv") is not None:
        import uv

        try:
            return str(uv.find_uv_bin())
        except FileNotFoundError:
            pass
    return shutil.which("uv")


def _isolated_env(root: Path, wheelhouse: Path, uv: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_CLEARED_PREFIXES) and k not in _CLEARED_VARS
    }
    home, caches, runtime = root / "home", root / "caches", root / "run"
    for folder in (home, caches, runtime):
        folder.mkdir(mode=0o700)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(runtime),
        VENVSYNCD_CONFIG=str(home / ".config" / "venvsyncd" / "config.toml"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_CACHE_DIR=str(caches / "pip"),
        UV_NO_CONFIG="1",
        UV_OFFLINE="1",
        UV_NO_INDEX="1",
        UV_FIND_LINKS=str(wheelhouse),
        UV_CACHE_DIR=str(caches / "uv"),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        # Bytecode for every Python process (venvsyncd's own modules included) goes here, so
        # that the source tree is not written to; the warm-up runs fill it.
        PYTHONPYCACHEPREFIX=str(caches / "pycache"),
    )
    if uv is not None:  # venvsyncd's installer = "uv" looks for uv on PATH
        bin_dir = root / "bin"
        bin_dir.mkdir()
        (bin_dir / "uv").symlink_to(uv)
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    if not _venvsyncd_installed():
        env["PYTHONPATH"] = str(REPO / "src")  # child processes import venvsyncd from here
    return env


def _venvsyncd_installed() -> bool:
    import importlib.metadata

    try:
        importlib.metadata.distribution("venvsyncd")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@contextmanager
def sandbox(keep: bool = False, use_uv: bool = True) -> Iterator[Sandbox]:
    """Enter the sandbox (os.environ replaced); leave it, and delete it unless `keep`."""
    root = Path(tempfile.mkdtemp(prefix="venvsyncd-bench-"))
    wheelhouse = root / "wheelhouse"
    wheelhouse.mkdir()
    uv = find_uv() if use_uv else None
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(_isolated_env(root, wheelhouse, uv))
    try:
        yield Sandbox(root, wheelhouse, uv)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if keep:
            print(f"sandbox kept at {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def run(argv: Sequence[str | os.PathLike[str]], cwd: Path | None = None) -> str:
    """Run a command in the sandbox; its output, or BenchError with the output."""
    args = [os.fspath(a) for a in argv]
    proc = subprocess.run(
        args, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def timed_run(argv: Sequence[str | os.PathLike[str]], cwd: Path | None = None) -> float:
    """Seconds a command took, start to exit (it must succeed)."""
    start = time.perf_counter()
    run(argv, cwd)
    return time.perf_counter() - start

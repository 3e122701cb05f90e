"""The `sys.path` a venv's interpreter starts with, computed from files on disk.

Mirrors CPython's `getpath` and `site.py` (3.11-3.13) without running the interpreter: the
base installation's standard library folders, the venv's site-packages and the paths its
`.pth` files add (as `site.addsitedir` does), then, with `include-system-site-packages = true`,
the user site and the base installation's site-packages with their `.pth` additions. The
current directory that `python -m pip` puts first is not part of it, nor `PYTHONPATH`.

A `.pth` line starting with `import` is code that may change `sys.path`; it is never run
here. When a `.pth` file has one, the venv's interpreter is asked for its `sys.path` in a
subprocess instead, and the answer is kept while the computed path and the `.pth` files (their
mtime, size and inode) stay the same.

Paths are strings here, spelled as `site.py` spells them (`os.path.abspath`, no symlink
resolution): pip compares and prints them as strings.
"""

# pip and site.py compute with path strings (abspath without following symlinks, normcase,
# string comparison, printed as is), and this runs on every freeze: os.path, not pathlib.
# ruff: noqa: PTH110, PTH111, PTH112, PTH116, PTH118, PTH120, PTH208

from __future__ import annotations

import os
import stat
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import NamedTuple

from venvsyncd.env.scan import shared_listing
from venvsyncd.env.venvs import Venv

_HIDDEN_FLAGS = getattr(stat, "UF_HIDDEN", 0)
_HIDDEN_ATTRIBUTES = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0)
_MARK = "venvsyncd-sys-path:"
# `-c` puts "" first, where `python -m pip` puts the current directory: left out, as here.
_ASK_PATH = (
    "import json, sys; p = sys.path; "
    "print('\\n" + _MARK + "' + json.dumps(p[1:] if p[:1] == [''] else p))"
)
ASK_TIMEOUT = 30.0  # seconds
_asked: dict[str, tuple[Hashable, tuple[str, ...]]] = {}  # interpreter -> (key, its sys.path)


class SitePath(NamedTuple):
    """The interpreter's path entries in order; `asked` when the interpreter gave them."""

    entries: tuple[str, ...]
    asked: bool = False


def python_version(venv: Venv) -> tuple[int, int] | None:
    """The venv's Python `(major, minor)`: from pyvenv.cfg, else its `lib/pythonX.Y` folder."""
    if venv.version is not None:
        return venv.version[0], venv.version[1]
    folder = venv.site_packages.parent.name
    major, dot, minor = folder.removeprefix("python").partition(".")
    if folder.startswith("python") and dot and major.isdigit() and minor.isdigit():
        return int(major), int(minor)
    return None


def venv_sys_path(venv: Venv) -> SitePath:
    """The venv interpreter's `sys.path` (after `site`), as `SitePath`."""
    version = python_version(venv)
    base = base_prefix(venv, version)
    builder = _Builder(version, str(venv.site_packages))
    builder.seed(_stdlib_dirs(base, version, venv.windows_layout))
    venv_sites = [str(venv.site_packages)]
    if venv.windows_layout:
        venv_sites.insert(0, str(venv.root))  # getsitepackages() lists the prefix on Windows
    builder.add_site_dirs(venv_sites)
    if venv.include_system_site_packages:
        builder.add_site_dirs(_user_site(version, venv.windows_layout))
        builder.add_site_dirs(_system_site_dirs(base, version, venv.windows_layout))
    computed = tuple(builder.entries)
    if not builder.runs_code:
        return SitePath(computed)
    key = (computed, tuple(builder.pth_files), _stat_key(str(venv.root / "pyvenv.cfg")))
    python = str(venv.python)
    kept = _asked.get(python)
    if kept is None or kept[0] != key:
        kept = (key, _ask_interpreter(python))
        _asked[python] = kept
    return SitePath(kept[1], True) if kept[1] else SitePath(computed)


def _ask_interpreter(python: str) -> tuple[str, ...]:
    """The interpreter's `sys.path` after `site` ran its `.pth` files; () when it cannot say."""
    import json

    from venvsyncd.env.commands import CommandError, run_command

    try:
        output = run_command([python, "-c", _ASK_PATH], timeout=ASK_TIMEOUT)
    except CommandError:
        return ()
    for line in reversed(output.splitlines()):
        if line.startswith(_MARK):
            try:
                found = json.loads(line[len(_MARK) :])
            except ValueError:
                return ()
            return tuple(p for p in found if isinstance(p, str))
    return ()


def _stat_key(path: str) -> tuple[str, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return path, st.st_mtime_ns, st.st_size, st.st_ino


def base_prefix(venv: Venv, version: tuple[int, int] | None) -> str | None:
    """The base installation's prefix, found from pyvenv.cfg's `home` as `getpath` does."""
    if venv.home is None:
        return None
    home = os.path.abspath(venv.home)
    if venv.windows_layout or version is None:
        return home
    landmark = os.path.join("lib", f"python{version[0]}.{version[1]}", "os.py")
    real = os.path.realpath(os.path.join(home, f"python{version[0]}.{version[1]}"))
    for start in (os.path.dirname(real), home):
        found = _search_up(start, landmark)
        if found is not None:
            return found
    return os.path.dirname(home)


def _search_up(start: str, landmark: str) -> str | None:
    folder = start
    while True:
        if Path(folder, landmark).is_file():
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _stdlib_dirs(base: str | None, version: tuple[int, int] | None, windows: bool) -> list[str]:
    if base is None or version is None:
        return []
    major, minor = version
    if windows:
        return [
            os.path.join(base, f"python{major}{minor}.zip"),
            os.path.join(base, "DLLs"),
            os.path.join(base, "Lib"),
            base,
        ]
    stdlib = os.path.join(base, "lib", f"python{major}.{minor}")
    return [
        os.path.join(base, "lib", f"python{major}{minor}.zip"),
        stdlib,
        os.path.join(stdlib, "lib-dynload"),
    ]


def _user_site(version: tuple[int, int] | None, windows: bool) -> list[str]:
    """The user site-packages (site.py enables it in a venv with system site-packages)."""
    if version is None:
        return []
    major, minor = version
    base = os.environ.get("PYTHONUSERBASE")
    if windows:
        appdata = os.environ.get("APPDATA") or os.path.expanduser("~")
        base = base or os.path.join(appdata, "Python")
        return [os.path.join(base, f"Python{major}{minor}", "site-packages")]
    base = base or os.path.expanduser("~/.local")
    return [os.path.join(base, "lib", f"python{major}.{minor}", "site-packages")]


def _system_site_dirs(
    base: str | None, version: tuple[int, int] | None, windows: bool
) -> list[str]:
    """`site.getsitepackages()` for the base prefix: upstream, Fedora's lib64, Debian's."""
    if base is None or version is None:
        return []
    major, minor = version
    if windows:
        return [base, os.path.join(base, "Lib", "site-packages")]
    pyver = f"python{major}.{minor}"
    return [
        os.path.join(base, "lib64", pyver, "site-packages"),
        os.path.join(base, "lib", pyver, "site-packages"),
        os.path.join(base, "local", "lib", pyver, "dist-packages"),  # Debian
        os.path.join(base, "lib", "python3", "dist-packages"),
        os.path.join(base, "lib", pyver, "dist-packages"),
    ]


class _Builder:
    """`site.addsitedir` over a growing path list with its `known_paths` set."""

    def __init__(self, version: tuple[int, int] | None, shared: str = "") -> None:
        self.version = version
        self.shared = shared  # the folder whose names may come from the action's listing
        self.entries: list[str] = []
        self.known: set[str] = set()
        self.pth_files: list[tuple[str, int, int, int] | None] = []  # what was read
        self.runs_code = False  # a `.pth` file has an `import` line

    def seed(self, paths: Iterable[str]) -> None:
        """The path entries `getpath` computed (site.py's starting `known_paths`)."""
        for path in paths:
            if os.path.exists(path):
                self._append(os.path.abspath(path))

    def _append(self, path: str) -> None:
        case = os.path.normcase(path)
        if case not in self.known:
            self.entries.append(path)
            self.known.add(case)

    def add_site_dirs(self, site_dirs: Iterable[str]) -> None:
        for site_dir in site_dirs:
            if os.path.isdir(site_dir):
                self.add_site_dir(os.path.abspath(site_dir))

    def add_site_dir(self, site_dir: str) -> None:
        self._append(site_dir)
        found = shared_listing(site_dir) if site_dir == self.shared else None
        try:
            names = os.listdir(site_dir) if found is None else [e.name for e in found.entries]
        except OSError:
            return
        for name in sorted(n for n in names if n.endswith(".pth") and not n.startswith(".")):
            self._add_pth(site_dir, name)

    def _add_pth(self, site_dir: str, name: str) -> None:
        """One `.pth` file, as `site.addpackage` reads it; `import` lines are noted, not run."""
        full = os.path.join(site_dir, name)
        self.pth_files.append(_stat_key(full))
        lines = _pth_lines(full, self.version)
        for line in lines:
            if line.startswith("#") or not line.strip():
                continue
            if line.startswith(("import ", "import\t")):
                self.runs_code = True
                continue
            path = os.path.abspath(os.path.join(site_dir, line.rstrip()))
            if os.path.normcase(path) not in self.known and os.path.exists(path):
                self._append(path)


def _pth_lines(path: str, version: tuple[int, int] | None) -> list[str]:
    """A `.pth` file's lines; [] when it is hidden or unreadable (site.py skips those)."""
    try:
        st = os.lstat(path)
        if (getattr(st, "st_flags", 0) & _HIDDEN_FLAGS) or (
            getattr(st, "st_file_attributes", 0) & _HIDDEN_ATTRIBUTES
        ):
            return []
        with open(path, "rb") as pth:
            data = pth.read()
    except OSError:
        return []
    import locale

    if version is not None and version >= (3, 13):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode(locale.getencoding(), errors="replace")
    else:
        text = data.decode(locale.getpreferredencoding(False), errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

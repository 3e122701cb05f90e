"""Virtual environments on disk: find one in a project, read its layout and pyvenv.cfg.

Pure reading of the filesystem; nothing here runs the venv's interpreter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from venvsyncd.errors import ProjectError

VENV_CANDIDATES = (".venv", "venv", "env")
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class Venv:
    """A venv as found on disk: its root, layout and the facts pyvenv.cfg states."""

    root: Path
    windows_layout: bool
    version: tuple[int, int, int] | None
    site_packages: Path
    include_system_site_packages: bool
    home: Path | None
    implementation: str | None = None  # pyvenv.cfg's `implementation` (uv writes it)

    @property
    def python(self) -> Path:
        """The venv's own interpreter (what pip's shebang points at)."""
        if self.windows_layout:
            return self.root / "Scripts" / "python.exe"
        return self.root / "bin" / "python"

    @property
    def version_text(self) -> str | None:
        return None if self.version is None else ".".join(map(str, self.version))


def read_pyvenv_cfg(path: Path) -> dict[str, str]:
    """Parse `pyvenv.cfg` the way `site.venv()` does: `key = value` lines, keys lower-cased."""
    values: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as cfg:
        for line in cfg:
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip().lower()] = value.strip()
    return values


def find_venv(project_dir: Path, configured: str | None = None) -> Path | None:
    """The project's venv root: the configured one, else the first candidate with a pyvenv.cfg."""
    if configured is not None:
        return (project_dir / Path(configured).expanduser()).absolute()
    for name in VENV_CANDIDATES:
        if (project_dir / name / "pyvenv.cfg").is_file():
            return project_dir / name
    return None


def cfg_version(cfg: dict[str, str]) -> tuple[int, int, int] | None:
    """`version` (CPython's venv) or `version_info` (uv, virtualenv) as a 3-tuple."""
    raw = cfg.get("version") or cfg.get("version_info") or ""
    match = _VERSION_RE.match(raw)
    if match is None:
        return None
    major, minor, micro = match.groups()
    return int(major), int(minor), int(micro or 0)


def _site_packages(root: Path, version: tuple[int, int, int] | None) -> tuple[Path, bool]:
    windows = (root / "Lib" / "site-packages").is_dir() and not (root / "bin").is_dir()
    if windows:
        return root / "Lib" / "site-packages", True
    if version is not None:
        for libdir in ("lib", "lib64"):
            exact = root / libdir / f"python{version[0]}.{version[1]}" / "site-packages"
            if exact.is_dir():
                return exact, False
    found = sorted((root / "lib").glob("python*/site-packages"))
    if found:
        return found[0], False
    raise ProjectError(
        f"{root}: no site-packages directory (looked for lib/pythonX.Y/site-packages "
        "and Lib/site-packages)",
        hint=f"recreate the venv: python3 -m venv --clear {root}",
    )


def load_venv(root: Path) -> Venv:
    """Read the venv at `root`; a missing or broken one is a `ProjectError` naming the path."""
    cfg_path = root / "pyvenv.cfg"
    if not cfg_path.is_file():
        raise ProjectError(
            f"{root}: not a virtual environment (no pyvenv.cfg)",
            hint=f"create it with: python3 -m venv {root}",
        )
    try:
        cfg = read_pyvenv_cfg(cfg_path)
    except OSError as exc:
        raise ProjectError(f"{cfg_path}: cannot read: {exc.strerror}") from exc
    version = cfg_version(cfg)
    site_packages, windows = _site_packages(root, version)
    home = cfg.get("home")
    return Venv(
        root=root,
        windows_layout=windows,
        version=version,
        site_packages=site_packages,
        # site.venv(): "true" unless the file says otherwise
        include_system_site_packages=cfg.get("include-system-site-packages", "true").lower()
        == "true",
        home=Path(home) if home else None,
        implementation=cfg.get("implementation"),
    )


def marker_environment(venv: Venv) -> dict[str, str]:
    """PEP 508 marker values for the venv's interpreter, without running it.

    The platform keys are this machine's (the venv runs here); the Python keys come from
    pyvenv.cfg, so a 3.12 venv is judged as 3.12 even when the daemon runs on 3.11.
    """
    from packaging.markers import default_environment

    env = {key: str(value) for key, value in default_environment().items()}
    if venv.version is not None:
        major, minor, micro = venv.version
        env["python_version"] = f"{major}.{minor}"
        env["python_full_version"] = f"{major}.{minor}.{micro}"
        env["implementation_version"] = env["python_full_version"]
    if venv.implementation:
        name = venv.implementation.lower()
        env["implementation_name"] = name
        env["platform_python_implementation"] = {"cpython": "CPython", "pypy": "PyPy"}.get(
            name, venv.implementation
        )
    return env

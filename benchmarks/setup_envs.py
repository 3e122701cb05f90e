"""The benchmark's material: a generated wheelhouse, venvs built from it, projects, configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.sandbox import BenchError, Sandbox, run
from testing.wheelhouse import build_wheel, repack_installed
from venvsyncd.config import ProjectEntry, ProjectSettings
from venvsyncd.env.freeze import freeze_text
from venvsyncd.env.venvs import Venv, load_venv
from venvsyncd.project import Project, resolve

# Name spellings as found in the wild: dots, dashes, underscores, capitals.
_SPELLINGS = ("bench{i:03d}", "Bench_Pkg{i:03d}", "bench.dots{i:03d}", "bench-dash{i:03d}")
PINNED = "benchpin"  # the package whose pin the one-pin rows move
PIN_VERSIONS = ("1.0", "2.0")
MAX_FILLERS = 266  # a venv of 267 distributions: 266 fillers and pip


def filler_names(count: int) -> list[str]:
    return [_SPELLINGS[i % len(_SPELLINGS)].format(i=i) for i in range(count)]


def build_wheelhouse(box: Sandbox) -> bool:
    """Tiny wheels for every filler name and both pins, plus this interpreter's pip when it
    has one (then venvs are seeded offline with a current pip). Whether pip was repacked."""
    for i, name in enumerate(filler_names(MAX_FILLERS)):
        build_wheel(box.wheelhouse, name, f"1.{i}.0")
    for version in PIN_VERSIONS:
        build_wheel(box.wheelhouse, PINNED, version)
    try:
        repack_installed(box.wheelhouse, "pip")
    except Exception:  # no pip in this interpreter: venvs get the one ensurepip bundles
        return False
    return True


def make_venv(box: Sandbox, root: Path, packages: Sequence[str]) -> Venv:
    """A venv at `root` with pip and `packages` (nothing else), installed offline by uv when
    there is one, else by the venv's pip."""
    python = root / "bin" / "python"
    pip_wheels = sorted(box.wheelhouse.glob("pip-*.whl"))
    if not pip_wheels:  # ensurepip's pip (and, before 3.12, its setuptools: removed)
        run([sys.executable, "-m", "venv", root])
        subprocess.run([python, "-m", "pip", "uninstall", "-q", "-y", "setuptools"], check=False)
    else:
        run([sys.executable, "-m", "venv", "--without-pip", root])
    wanted = (["pip"] if pip_wheels else []) + list(packages)
    if not wanted:
        return load_venv(root)
    if box.uv is not None:  # compiled, as pip leaves what it installs: no first-run compile
        run([box.uv, "pip", "install", "--compile-bytecode", "--python", python, *wanted])
    elif pip_wheels:  # a pip wheel runs from the zip: it installs pip itself, then the rest
        run([python, pip_wheels[0] / "pip", "install", "-q", *wanted])
    else:
        run([python, "-m", "pip", "install", "-q", *wanted])
    return load_venv(root)


def make_project(box: Sandbox, root: Path, packages: Sequence[str]) -> Project:
    """A project folder with `.venv` holding `packages` and pip, its requirements file being
    the venv's freeze (so the two sides agree)."""
    root.mkdir(parents=True, exist_ok=True)
    venv = make_venv(box, root / ".venv", packages)
    (root / "requirements.txt").write_text(freeze_text(venv))
    return resolve(ProjectEntry(root, None, None, ProjectSettings()))


def pinned_line(project: Project) -> str:
    """The file's line that pins PINNED."""
    for line in project.requirements.read_text().splitlines():
        if line.startswith(f"{PINNED}=="):
            return line
    raise BenchError(f"{project.requirements} has no {PINNED} pin")


def set_pin(path: Path, version: str) -> None:
    """Save `path` with PINNED moved to `version`, as an editor does (tmp + rename)."""
    lines = [
        f"{PINNED}=={version}" if line.startswith(f"{PINNED}==") else line
        for line in path.read_text().splitlines()
    ]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)


def installed_version(venv: Venv, name: str = PINNED) -> str | None:
    """The version of `name` whose finished dist-info (with RECORD) is in site-packages."""
    prefix = f"{name}-"
    for entry in venv.site_packages.iterdir():
        finished = entry.suffix == ".dist-info" and (entry / "RECORD").is_file()
        if finished and entry.name.startswith(prefix):
            return entry.name[len(prefix) : -len(".dist-info")]
    return None


def bare_projects(box: Sandbox, count: int) -> list[Path]:
    """`count` small projects: `python -m venv --without-pip` and an empty requirements file
    (an empty venv freezes to nothing, so both sides agree). Made in parallel."""
    base = box.folder(f"bare{count}")

    def one(i: int) -> Path:
        folder = base / f"p{i:03d}"
        folder.mkdir()
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(folder / ".venv")], check=True
        )
        (folder / "requirements.txt").write_text("")
        return folder

    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) * 2)) as pool:
        return list(pool.map(one, range(count)))


def write_config(box: Sandbox, projects: Sequence[Path], settle: float, installer: str) -> Path:
    """The daemon's config: settle time, installer, and one [[project]] per path."""
    lines = ["[daemon]", f"settle_seconds = {settle}", f'installer = "{installer}"', ""]
    for path in projects:
        lines += ["[[project]]", f"path = {json.dumps(str(path))}", ""]
    box.config.parent.mkdir(parents=True, exist_ok=True)
    box.config.write_text("\n".join(lines))
    return box.config

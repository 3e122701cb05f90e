"""A local Python project built by an in-tree PEP 517/660 backend, and git repositories of it.

No build dependency, so pip and uv build it offline; shared by the tests that install local
folders, VCS URLs and editables.
"""

from __future__ import annotations

from pathlib import Path

from testing.venvs import run

# A PEP 517/660 backend with no dependencies: `pip install --no-build-isolation` stays offline.
# The editable wheel holds one `.pth` naming the project folder (or its PTH_TARGET subfolder).
BACKEND = r"""
import base64, hashlib, os, zipfile

SAFE = NAME.replace("-", "_").replace(".", "_")
HERE = os.path.dirname(os.path.abspath(__file__))


def _row(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _wheel(wheel_directory, files):
    info = f"{SAFE}-{VERSION}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n"
    files[f"{info}/METADATA"] = meta.encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    rows = [_row(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    filename = f"{SAFE}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr(f"{info}/RECORD", "\n".join(rows) + "\n")
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {f"{SAFE}_mod.py": b"VALUE = 1\n"})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    target = os.path.join(HERE, PTH_TARGET)
    return _wheel(wheel_directory, {f"__editable__.{SAFE}-{VERSION}.pth": (target + "\n").encode()})
"""
PYPROJECT = '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
GIT_IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false")


def write_project(folder: Path, name: str, version: str, pth_target: str = "") -> Path:
    """A project folder that the in-tree BACKEND builds into a wheel or an editable wheel."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(PYPROJECT)
    header = f"NAME = {name!r}\nVERSION = {version!r}\nPTH_TARGET = {pth_target!r}\n"
    (folder / "backend.py").write_text(header + BACKEND)
    return folder


def git(repo: Path, *args: str) -> str:
    return run(["git", *GIT_IDENTITY, *args], cwd=repo).stdout


def git_repo(folder: Path, remote: str | None = None, commit: bool = True) -> Path:
    """`folder` as a git repository (with one commit of everything, and `origin`)."""
    git(folder, "init", "-q", "-b", "main")
    if commit:
        git(folder, "add", "-A")
        git(folder, "commit", "-q", "-m", "initial")
    if remote is not None:
        git(folder, "remote", "add", "origin", remote)
    return folder

"""Mercurial, Subversion and Bazaar checkouts of a local project, zip files and zipped eggs,
built for real the way pip's own freeze tests build them.

Every tool runs with the HOME it is given (svn and bzr write their config and logs there)
and with a committer identity, so no test reads or writes the real home directory.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from testing.venvs import run

# command -> the Debian package that has it (CI: `apt-get install -y mercurial subversion bzr`)
PACKAGES = {"hg": "mercurial", "svn": "subversion", "bzr": "bzr"}


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def needs(*tools: str) -> pytest.MarkDecorator:
    """Skip unless every tool is on PATH, saying which package to install."""
    missing = [tool for tool in tools if not have(tool)]
    packages = " ".join(PACKAGES.get(tool, tool) for tool in missing)
    return pytest.mark.skipif(
        bool(missing), reason=f"{', '.join(missing)} not installed: apt-get install -y {packages}"
    )


def tool(home: Path, *args: str | Path, cwd: Path | None = None) -> str:
    """Run a version control command with `home` as HOME and a committer identity."""
    env = dict(os.environ, HOME=str(home), HGUSER="t <t@example.com>", HGPLAIN="1")
    env.update(BRZ_EMAIL="t <t@example.com>", BZR_EMAIL="t <t@example.com>")
    return run(list(args), cwd=cwd, env=env).stdout


def hg_repo(home: Path, folder: Path) -> Path:
    """`folder` as a Mercurial repository with one commit of everything."""
    tool(home, "hg", "init", folder)
    tool(home, "hg", "commit", "-q", "-A", "-m", "initial", cwd=folder)
    return folder


def hg_clone(home: Path, source: Path, dest: Path) -> Path:
    tool(home, "hg", "clone", "-q", source, dest)
    return dest


def hg_commit(home: Path, repo: Path) -> str:
    """A new commit in `repo`; its node."""
    (repo / "change.txt").write_text(str(len(list(repo.iterdir()))))
    tool(home, "hg", "commit", "-q", "-A", "-m", "change", cwd=repo)
    return tool(home, "hg", "parents", "--template={node}", cwd=repo)


def svn_checkout(home: Path, project: Path, repo: Path, checkout: Path) -> Path:
    """`project` imported into a new Subversion repository's trunk, checked out at `checkout`."""
    tool(home, "svnadmin", "create", repo)
    trunk = f"{repo.as_uri()}/trunk"
    tool(home, "svn", "import", "-q", "-m", "initial", project, trunk)
    tool(home, "svn", "checkout", "-q", trunk, checkout)
    return checkout


def svn_commit(home: Path, checkout: Path) -> None:
    """A new file committed from `checkout` (which stays at its revision until updated)."""
    change = checkout / f"change{len(list(checkout.iterdir()))}.txt"
    change.write_text("x")
    tool(home, "svn", "add", "-q", change)
    tool(home, "svn", "commit", "-q", "-m", "change", cwd=checkout)


def bzr_branch(home: Path, folder: Path) -> Path:
    """`folder` as a Bazaar branch with one commit of everything."""
    tool(home, "bzr", "init", "-q", cwd=folder)
    tool(home, "bzr", "add", "-q", cwd=folder)
    tool(home, "bzr", "commit", "-q", "-m", "initial", cwd=folder)
    return folder


def bzr_commit(home: Path, tree: Path) -> None:
    """A new commit in `tree` (brought up to date with its branch first)."""
    tool(home, "bzr", "update", "-q", cwd=tree)
    (tree / "change.txt").write_text(str(len(list(tree.iterdir()))))
    tool(home, "bzr", "add", "-q", cwd=tree)
    tool(home, "bzr", "commit", "-q", "-m", "change", cwd=tree)


def bzr_get(home: Path, command: str, source: Path, dest: Path, *options: str) -> Path:
    """`bzr checkout` (or `branch`) of `source` at `dest`."""
    tool(home, "bzr", command, "-q", *options, source, dest)
    return dest


def zip_folder(folder: Path, archive: Path) -> Path:
    """Every file under `folder` into the zip file `archive`, named relative to `folder`."""
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, path.relative_to(folder).as_posix())
    return archive


def zipped_egg(folder: Path, name: str, version: str, pyver: str) -> Path:
    """A zipped egg as easy_install left them: `EGG-INFO/PKG-INFO` and the package."""
    egg = folder / f"{name}-{version}-py{pyver}.egg"
    with zipfile.ZipFile(egg, "w") as zipped:
        zipped.writestr(f"{name}/__init__.py", f"VERSION = {version!r}\n")
        zipped.writestr(
            "EGG-INFO/PKG-INFO", f"Metadata-Version: 1.1\nName: {name}\nVersion: {version}\n"
        )
        zipped.writestr("EGG-INFO/top_level.txt", f"{name}\n")
    return egg

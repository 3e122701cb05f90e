"""The soak test's world: real projects, what a user does to them, and what must hold after.

Each `SoakProject` keeps a model of the user's intent: the package versions the user last
asked for (by pip, uv or an edit of the file) and the comment and option lines the user last
wrote. Dependencies pulled in or left behind are not the user's intent and are not checked.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from venvsyncd.freeze import freeze
from venvsyncd.journal import entries
from venvsyncd.state import project_state_dir
from venvsyncd.venvs import load_venv

# name -> versions in the soak wheelhouse (beta needs alpha, sigma needs omega, at any version)
VERSIONS: dict[str, tuple[str, ...]] = {
    "alpha": ("1.0", "1.1", "2.0"),
    "beta": ("1.0",),
    "delta": ("1.0",),
    "eta": ("1.0",),
    "omega": ("1.0", "1.1", "2.0"),
    "sigma": ("1.0", "2.0"),
    "kappa": ("1.0", "1.5"),
}
EXTRA_WHEELS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("omega", "1.0", ()),
    ("omega", "1.1", ()),
    ("omega", "2.0", ()),
    ("sigma", "1.0", ("omega",)),
    ("sigma", "2.0", ("omega",)),
    ("kappa", "1.0", ()),
    ("kappa", "1.5", ()),
)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(==\s*([\w.]+)|>=[\w.]+)?\s*(#.*)?$")
ANY = "*"


def requirement_lines(text: str) -> dict[str, str]:
    """canonical name -> pinned version (or ANY) for each simple requirement line."""
    found = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match and not line.lstrip().startswith(("#", "-")):
            found[canonicalize_name(match[1])] = match[3] or ANY
    return found


def marker_lines(text: str) -> set[str]:
    """The lines the user wrote that a preserve-style sync must keep byte for byte."""
    return {ln for ln in text.splitlines() if ln.startswith(("# soak", "--trusted-host"))}


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@dataclass
class SoakProject:
    path: Path
    style: str  # "preserve" or "pip"
    expected: dict[str, str] = field(default_factory=dict)  # what the user last asked for
    markers: set[str] = field(default_factory=set)
    before: bytes = b""  # the content a venvsyncd write would replace, since the quiet point
    journal: int = 0  # entries at the last quiet point
    serial: int = 0
    log: list[str] = field(default_factory=list)  # what the user did, for a report
    unlisted: set[str] = field(default_factory=set)  # expected in the venv, not in the file

    @property
    def requirements(self) -> Path:
        return self.path / "requirements.txt"

    @property
    def python(self) -> Path:
        return self.path / ".venv" / "bin" / "python"

    def installed(self) -> dict[str, str]:
        return {d.name: d.version for d in freeze(load_venv(self.path / ".venv"))}

    def journal_contents(self, state_dir: Path) -> list[bytes]:
        folder = project_state_dir(state_dir, self.path)
        return [e.content.read_bytes() for e in entries(folder)]

    # ---- the user's side -----------------------------------------------------------------
    def env_changed(self, name: str, version: str | None, was_installed: bool) -> None:
        """The user installed `name==version` (None: uninstalled it) with pip or uv."""
        self.log.append(f"venv: {name} {version or 'uninstalled'}")
        if version is None:
            self.expected.pop(name, None)  # uninstalled: whatever happens next is fine
            return
        self.expected[name] = version
        named = name in requirement_lines(self.requirements.read_text())
        if self.style == "preserve" and was_installed and not named:
            self.unlisted.add(name)  # a dependency moved: the contract adds no line for it
        else:
            self.unlisted.discard(name)

    def wrote(self, text: str) -> None:
        """The user put `text` in the file (an edit or a git checkout)."""
        self.log.append(f"wrote {text!r}")
        old = requirement_lines(self.requirements.read_text())
        new = requirement_lines(text)
        for name in old.keys() - new.keys():
            self.expected.pop(name, None)
        self.expected.update(new)
        self.unlisted -= new.keys()
        if self.style == "preserve":
            self.markers = marker_lines(text)
        self.before = text.encode()

    def edited(self, rng: random.Random) -> str:
        """A new text for the file: a line added, removed or re-pinned, or a marker added."""
        lines = self.requirements.read_text().splitlines(keepends=True)
        self.serial += 1
        tag = f"{self.path.name}-{self.serial}"
        reqs = [i for i, ln in enumerate(lines) if requirement_lines(ln)]
        choice = rng.choice(["add", "add", "remove", "pin", "comment", "option"])
        if self.style == "pip" and choice in ("comment", "option"):
            choice = "add"  # a pip-style file is the freeze: user comments are not its own
        if choice in ("remove", "pin") and reqs:
            i = rng.choice(reqs)
            name = next(iter(requirement_lines(lines[i])))
            if choice == "remove":
                del lines[i]
            else:
                lines[i] = f"{name}=={rng.choice(VERSIONS.get(name, ('1.0',)))}\n"
        elif choice == "comment":
            lines.insert(rng.randrange(len(lines) + 1), f"# soak marker {tag}\n")
        elif choice == "option":
            lines.insert(rng.randrange(len(lines) + 1), f"--trusted-host {tag}.invalid\n")
        else:
            absent = [n for n in VERSIONS if n not in requirement_lines("".join(lines))]
            name = rng.choice(absent or list(VERSIONS))
            note = f"  # soak inline {tag}" if self.style == "preserve" else ""
            lines.append(f"{name}=={rng.choice(VERSIONS[name])}{note}\n")
        return "".join(lines)

    # ---- the checks ----------------------------------------------------------------------
    def lost_lines(self) -> list[str]:
        if self.style != "preserve":
            return []
        return sorted(self.markers - set(self.requirements.read_text().splitlines()))

    def lost_packages(self) -> list[str]:
        installed = self.installed()
        in_file = requirement_lines(self.requirements.read_text())
        lost = []
        for name, version in sorted(self.expected.items()):
            have, pinned = installed.get(name), in_file.get(name)
            if have is None or (version != ANY and have != version):
                lost.append(f"{name}=={version}: installed {have}")
            elif name in self.unlisted and pinned is None:
                continue
            elif pinned is None or (pinned != ANY and pinned != have):
                lost.append(f"{name}=={version}: file says {pinned}")
        return lost


def new_project(root: Path, name: str, style: str, uv: str) -> SoakProject:
    folder = root / name
    folder.mkdir()
    python = folder / ".venv" / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", folder / ".venv"], check=True)
    subprocess.run([uv, "pip", "install", "-q", "--python", python, "pip"], check=True)
    packages = ["alpha==1.0", "beta==1.0", "omega==1.1"]
    subprocess.run([python, "-m", "pip", "install", "-q", *packages], check=True)
    project = SoakProject(folder, style)
    if style == "preserve":
        head = f"# soak header of {name}\n--trusted-host {name}.invalid\n\n"
        body = "alpha==1.0  # soak pinned on purpose\nbeta>=1.0\nomega==1.1\n"
    else:
        head, body = "", "alpha==1.0\nbeta==1.0\nomega==1.1\n"
    project.requirements.write_text(head + body)
    project.wrote(head + body)
    (folder / ".gitignore").write_text(".venv/\n")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "start")
    return project


def replace_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.soak-swp")
    temp.write_text(text)
    os.replace(temp, path)


def isolate(root: Path, wheelhouse: Path) -> None:
    """The environment tests/conftest.py gives the tests: nothing of this machine's leaks."""
    for var in list(os.environ):
        if var.startswith(("PIP_", "UV_", "VENVSYNCD_", "XDG_")) or var == "VIRTUAL_ENV":
            del os.environ[var]
    home = root / "home"
    env = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_RUNTIME_DIR": root / "run",
        "VENVSYNCD_CONFIG": home / ".config" / "venvsyncd" / "config.toml",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": wheelhouse,
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CACHE_DIR": root / "cache" / "pip",
        "UV_NO_CONFIG": "1",
        "UV_OFFLINE": "1",
        "UV_NO_INDEX": "1",
        "UV_FIND_LINKS": wheelhouse,
        "UV_CACHE_DIR": root / "cache" / "uv",
        "UV_PYTHON_DOWNLOADS": "never",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "soak",
        "GIT_AUTHOR_EMAIL": "soak@venvsyncd.invalid",
        "GIT_COMMITTER_NAME": "soak",
        "GIT_COMMITTER_EMAIL": "soak@venvsyncd.invalid",
    }
    os.environ.update({k: str(v) for k, v in env.items()})
    for folder in (home, root / "run"):
        folder.mkdir(mode=0o700)

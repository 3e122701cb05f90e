"""The soak test's world: real projects, what a user does to them, and what must hold after.

Each `SoakProject` keeps a model of the user's intent: the package versions the user last
asked for (by pip, uv or an edit of the file) and the comment and option lines the user last
wrote (a note appended while the daemon rewrites the file among them). Dependencies pulled in
or left behind are not the user's intent and are not checked. It also keeps what venvsyncd
must have put in the journal since the last quiet point: every version of the file it
replaced.
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

from venvsyncd.engine.journal import entries
from venvsyncd.engine.snapshot import project_state_dir
from venvsyncd.env.freeze import freeze
from venvsyncd.env.venvs import load_venv

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
DEPENDS = {"beta": "alpha", "sigma": "omega"}  # what the wheels require
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(==\s*([\w.]+)|>=[\w.]+)?\s*(#.*)?$")
ANY = "*"


def requirement_lines(text: str) -> dict[str, str]:
    """canonical name -> pinned version (or ANY) for each simple requirement line."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match and not line.lstrip().startswith(("#", "-")):
            found[canonicalize_name(match[1])] = match[3] or ANY
    return found


def marker_lines(text: str) -> set[str]:
    """The lines the user wrote that a preserve-style sync must keep byte for byte."""
    return {ln for ln in text.splitlines() if ln.startswith(("# soak", "# note", "--trusted-host"))}


def uninstalls_logged(log: str, project: Path) -> set[str]:
    """The packages the daemon's log says it uninstalled for `project` (`requirements.txt ->
    +a==1.0 -b (c stays: ...)`)."""
    names: set[str] = set()
    for line in log.splitlines():
        if line.split(" ", 3)[-1].startswith(f"{project}: "):
            acted = re.search(r"requirements\.txt -> ([^;(]*)", line)
            words = acted[1].split() if acted else []
            names |= {canonicalize_name(w[1:]) for w in words if w.startswith("-")}
    return names


def uninstalled_by(old: str, new: str, installed: dict[str, str]) -> set[str]:
    """What a change of the file from `old` to `new` uninstalls: the packages whose lines went,
    except those a package that stays installed (or that `new` installs) requires."""
    named = requirement_lines(new).keys()
    removed = (requirement_lines(old).keys() - named) & installed.keys()
    stays = (installed.keys() - removed) | named
    return {n for n in removed if not any(DEPENDS.get(s) == n for s in stays)}


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
    settled: bytes = b""  # the file at the last quiet point (what `undo` of a hold brings back)
    settled_env: dict[str, str] = field(default_factory=dict)  # the venv then
    settled_intent: tuple[dict[str, str], set[str], set[str]] = field(
        default_factory=lambda: ({}, set(), set())
    )  # expected, markers and unlisted then
    replaced: list[bytes] = field(default_factory=list)  # venvsyncd replaced these since then
    journal: int = 0  # the newest journal entry's number at the last quiet point
    allowance: int = 0  # journal entries since then that are no rewrite (a hold, an `undo`)
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

    def journal_newest(self, state_dir: Path) -> int:
        found = entries(project_state_dir(state_dir, self.path))
        return found[-1].number if found else 0

    def journal_since(self, state_dir: Path, number: int) -> list[bytes]:
        """The contents of the entries numbered above `number` (kept: the newest `history`)."""
        found = entries(project_state_dir(state_dir, self.path))
        return [e.content.read_bytes() for e in found if e.number > number]

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

    def appended(self, read: bytes, line: str) -> None:
        """The user appended `line` in place to the file, which held `read` then."""
        self.log.append(f"appended {line!r} to {read.decode()!r}")
        if read != self.before:  # venvsyncd rewrote the file since the user last saw it
            self.replaced.append(self.before)
        self.before = read + line.encode()
        new = requirement_lines(line)
        self.expected.update(new)
        self.unlisted -= new.keys()
        if self.style == "preserve":
            self.markers |= marker_lines(line)

    def settle(self, journal: int) -> None:
        """A quiet point: remember the file, the venv, the journal and the user's intent."""
        self.before = self.settled = self.requirements.read_bytes()
        self.settled_env = self.installed()
        self.settled_intent = (dict(self.expected), set(self.markers), set(self.unlisted))
        self.journal, self.replaced, self.allowance = journal, [], 0

    def undone(self, held: bytes) -> None:
        """`venvsyncd undo` put the settled version back over the held content `held`: the
        user's intent is again what it was then (the held change was the only one since)."""
        self.log.append(f"undone: {self.settled.decode()!r}")
        self.replaced.append(held)
        self.before = self.settled
        expected, markers, unlisted = self.settled_intent
        self.expected, self.markers, self.unlisted = dict(expected), set(markers), set(unlisted)

    def installing_edit(self, rng: random.Random) -> tuple[str, str] | None:
        """A new text that makes the daemon install: a package added or re-pinned (its name)."""
        lines = self.requirements.read_text().splitlines(keepends=True)
        installed = self.installed()
        moves = [(n, v) for n, vs in VERSIONS.items() for v in vs if installed.get(n) != v]
        if not moves:
            return None
        name, version = rng.choice(moves)
        line = f"{name}=={version}\n"
        at = [i for i, ln in enumerate(lines) if name in requirement_lines(ln)]
        for i in at:
            lines[i] = line
        return "".join(lines if at else [*lines, line]), name

    def unrelated_install(self, rng: random.Random, text: str, name: str) -> tuple[str, str] | None:
        """A package for the user's own pip to add while the daemon installs `name`: neither
        installed nor named, and sharing no dependency with it (so the two cannot disagree)."""
        installed = self.installed()
        named = requirement_lines(text)
        choices = [
            (n, v)
            for n, vs in VERSIONS.items()
            for v in vs
            if n not in installed
            and n not in named
            and n not in (name, DEPENDS.get(name))
            and DEPENDS.get(n) != name
            and (n not in DEPENDS or DEPENDS[n] in installed)
        ]
        return rng.choice(choices) if choices else None

    def edited(self, rng: random.Random) -> str:
        """A new text for the file: a line added, removed or re-pinned, or a marker added."""
        lines = self.requirements.read_text().splitlines(keepends=True)
        self.serial += 1
        tag = f"{self.path.name}-{self.serial}"
        reqs = [i for i, ln in enumerate(lines) if requirement_lines(ln)]
        absent = [n for n in VERSIONS if n not in requirement_lines("".join(lines))]
        choice = rng.choice(["add", "add", "remove", "pin", "comment", "option"])
        if self.style == "pip" and choice in ("comment", "option"):
            choice = "add"  # a pip-style file is the freeze: user comments are not its own
        if choice == "add" and not absent:
            choice = "pin"  # every package is named: a second line would contradict the first
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
        elif absent:
            name = rng.choice(absent)
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

"""A requirement line's own options reach the installer with it (requirements/wanted.py):
`--no-binary`, `--only-binary`, `--config-settings` and `--hash` in `Wanted.args`, and
`installer_args` turning them into what pip and uv take (the command line, or a temporary
requirements file for what only a file scopes to its line). Tables for the pure part, then
real pip and uv installing from a local find-links folder that has both the sdist and the
wheel of a package, so that what the option did shows in what got installed."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from testing.localproject import write_project
from testing.venvs import UV, make_venv, run
from testing.wheelhouse import build_wheel
from venvsyncd.env.commands import CommandError
from venvsyncd.env.installer import Installer, install
from venvsyncd.env.venvs import Venv
from venvsyncd.requirements.file import LineKind, parse_requirements
from venvsyncd.requirements.wanted import (
    InstallerArgs,
    Wanted,
    asks_for_source,
    installer_args,
    requirements_line,
    wanted_from,
)

SOURCE = Path("/project/requirements.txt")
H1 = "sha256:" + "a" * 64
H2 = "sha256:" + "b" * 64


def args_of(text: str) -> tuple[str, ...]:
    (found,) = wanted_from(parse_requirements(text.encode(), SOURCE))
    return found.args


ARGS: list[tuple[str, tuple[str, ...]]] = [
    ("psycopg2==2.9.5", ("psycopg2==2.9.5",)),
    ("psycopg2==2.9.5 --no-binary psycopg2", ("psycopg2==2.9.5", "--no-binary=psycopg2")),
    ("numpy>=1 --only-binary=:all:", ("numpy>=1", "--only-binary=:all:")),
    ("pkg==1.0 -C key=value", ("pkg==1.0", "--config-settings=key=value")),
    ("pkg==1.0 --config-settings='key=a b' -C k2=v2",
     ("pkg==1.0", "--config-settings=key=a b", "--config-settings=k2=v2")),
    (f"pkg==1.0 \\\n    --hash={H1} \\\n    --hash={H2}  # pinned",
     ("pkg==1.0", f"--hash={H1}", f"--hash={H2}")),
    (f'pkg[x]==1.0 ; python_version >= "3" --no-binary :all: --hash={H1}',
     ('pkg[x]==1.0 ; python_version >= "3"', "--no-binary=:all:", f"--hash={H1}")),
    ("./local --config-settings=k=v", ("/project/local", "--config-settings=k=v")),
    ("https://h.invalid/p-1.0.tar.gz#sha256=00 --no-binary p",
     ("https://h.invalid/p-1.0.tar.gz#sha256=00", "--no-binary=p")),
    # an editable takes build settings and the format control, never a hash (pip ignores it)
    (f"-e ./pkg --config-settings=k=v --hash={H1}",
     ("-e", "/project/pkg", "--config-settings=k=v")),
    ("-e ./pkg --no-binary pkg", ("-e", "/project/pkg", "--no-binary=pkg")),
]  # fmt: skip


@pytest.mark.parametrize(("line", "args"), ARGS)
def test_args_carry_the_lines_own_options(line: str, args: tuple[str, ...]) -> None:
    assert args_of(line + "\n") == args


def test_options_of_an_option_line_stay_the_files() -> None:
    req = parse_requirements(b"--no-binary :all:\nalpha==1.0\n", SOURCE)
    assert [w.args for w in wanted_from(req)] == [("alpha==1.0",)]
    assert req.options() == ["--no-binary", ":all:"]


def test_global_option_is_refused_as_pip_26_refuses_it(tmp_path: Path) -> None:
    """pip 26.3 has no `--global-option` (it went in 25.3): the line is one pip cannot read,
    so venvsyncd reports it rather than carrying it."""
    text = "alpha==1.0 --global-option=--quiet\n"
    req = parse_requirements(text.encode(), SOURCE)
    assert req.lines[0].kind is LineKind.UNPARSABLE
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    argv = [sys.executable, "-m", "pip", "install", "--dry-run", "-r", str(path)]
    assert subprocess.run(argv, capture_output=True, check=False).returncode != 0
    path.write_text("alpha==1.0\n")
    run(argv)  # the same file without it: pip reads it


def W(*args: str, name: str | None = "pkg") -> Wanted:
    return Wanted(name or args[0], name, args)


PLAIN = W("alpha==1.0", name="alpha")
NO_BINARY = W("pkg==1.0", "--no-binary=pkg")
SETTINGS = W("pkg==1.0", "--no-binary=pkg", "--config-settings=k=a b")
HASHED = W("pkg==1.0", f"--hash={H1}", "--only-binary=pkg")
EDITABLE = W("-e", "/w/my pkg", "--config-settings=k=v")
UNNAMED = W("/w/local", "--config-settings=k=v", name=None)

INSTALLER_ARGS: list[tuple[str, Sequence[Wanted], InstallerArgs]] = [
    ("pip", [PLAIN, NO_BINARY], InstallerArgs(("alpha==1.0", "pkg==1.0", "--no-binary=pkg"))),
    ("pip", [PLAIN, SETTINGS],
     InstallerArgs((), ("alpha==1.0", "pkg==1.0 --no-binary=pkg '--config-settings=k=a b'"))),
    ("pip", [HASHED, PLAIN],
     InstallerArgs((), (f"pkg==1.0 --hash={H1} --only-binary=pkg", "alpha==1.0"))),
    ("pip", [EDITABLE], InstallerArgs((), ("-e '/w/my pkg' --config-settings=k=v",))),
    ("uv", [PLAIN, NO_BINARY], InstallerArgs(("alpha==1.0", "pkg==1.0", "--no-binary=pkg"))),
    ("uv", [SETTINGS],
     InstallerArgs(("pkg==1.0", "--no-binary=pkg", "--config-settings-package=pkg:k=a b"))),
    ("uv", [PLAIN, HASHED],
     InstallerArgs(("alpha==1.0", "--only-binary=pkg"), (f"pkg==1.0 --hash={H1}",))),
    ("uv", [EDITABLE],
     InstallerArgs(("-e", "/w/my pkg", "--config-settings-package=pkg:k=v"))),
    ("uv", [UNNAMED], InstallerArgs(("/w/local", "--config-settings=k=v"))),
    ("pip", [], InstallerArgs(())),
]  # fmt: skip


@pytest.mark.parametrize(("installer", "install", "expected"), INSTALLER_ARGS)
def test_installer_args(installer: str, install: Sequence[Wanted], expected: InstallerArgs) -> None:
    assert installer_args(install, installer) == expected


def test_a_requirements_line_reads_back_as_the_same_args() -> None:
    for wanted in (NO_BINARY, SETTINGS, HASHED):
        line = requirements_line(wanted.args)
        assert args_of(line + "\n") == wanted.args
    assert args_of(requirements_line(EDITABLE.args) + "\n") == EDITABLE.args


@pytest.mark.parametrize(
    ("wanted", "source"),
    [
        (PLAIN, False),
        (NO_BINARY, True),
        (W("pkg==1.0", "--no-binary=other,Pkg"), True),
        (W("pkg==1.0", "--no-binary=:all:"), True),
        (W("pkg==1.0", "--no-binary=other"), False),
        (W("pkg==1.0", "--only-binary=pkg"), False),
    ],
)
def test_asks_for_source(wanted: Wanted, source: bool) -> None:
    assert asks_for_source(wanted) is source


# --- real installers ---------------------------------------------------------------------------

# Appended to testing/localproject.py's backend: the wheel it builds records the build settings.
RECORDING = """

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    record = f"SETTINGS = {config_settings!r}\\n".encode()
    return _wheel(wheel_directory, {f"{SAFE}_mod.py": record})
"""


def write_sdist(links: Path, work: Path, name: str, version: str) -> Path:
    """An sdist of the in-tree backend's project, recording its build settings when built."""
    folder = write_project(work / f"{name}-src", name, version)
    with (folder / "backend.py").open("a") as backend:
        backend.write(RECORDING)
    path = links / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for file in ("pyproject.toml", "backend.py"):
            tar.add(folder / file, arcname=f"{name}-{version}/{file}")
        info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        entry = tarfile.TarInfo(f"{name}-{version}/PKG-INFO")
        entry.size = len(info)
        tar.addfile(entry, io.BytesIO(info))
    return path


@pytest.fixture
def links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A find-links folder: `both` as sdist and wheel, `srconly` as an sdist only. No caches,
    so that every build is a new one."""
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("UV_NO_CACHE", "1")
    folder = tmp_path / "links"
    folder.mkdir()
    write_sdist(folder, tmp_path, "both", "1.0")
    build_wheel(folder, "both", "1.0")
    write_sdist(folder, tmp_path, "srconly", "1.0")
    return folder


@pytest.fixture(params=["pip", "uv"])
def installer(request: pytest.FixtureRequest) -> Installer:
    return Installer("pip") if request.param == "pip" else Installer("uv", UV)


def built_here(venv: Venv, name: str) -> str | None:
    """What the in-tree backend recorded when it built `name` (None: installed from a wheel)."""
    record = venv.site_packages / f"{name}_mod.py"
    return record.read_text() if record.exists() else None


def install_lines(installer: Installer, venv: Venv, text: str, links: Path) -> None:
    """The lines of `text` installed as the sync hands them to `installer`: the command line,
    and the temporary requirements file when some line needs one."""
    wanted = wanted_from(parse_requirements(text.encode(), links.parent / "requirements.txt"))
    handed = installer_args(wanted, installer.kind)
    argv = ["--find-links", str(links), *handed.argv]
    if handed.file_lines:
        temporary = links.parent / "handed.txt"
        temporary.write_text("".join(line + "\n" for line in handed.file_lines))
        argv += ["-r", str(temporary)]
    install(installer, venv, argv, links.parent)


def test_no_binary_builds_from_the_sdist(tmp_path: Path, links: Path, installer: Installer) -> None:
    venv = make_venv(tmp_path / "venv")
    install_lines(installer, venv, "both==1.0\n", links)
    assert built_here(venv, "both") is None  # the wheel, when nothing says otherwise
    other = make_venv(tmp_path / "other")
    install_lines(installer, other, "both==1.0 --no-binary both\n", links)
    assert built_here(other, "both") is not None


def test_only_binary_refuses_the_sdist(tmp_path: Path, links: Path, installer: Installer) -> None:
    venv = make_venv(tmp_path / "venv")
    with pytest.raises(CommandError):
        install_lines(installer, venv, "srconly==1.0 --only-binary srconly\n", links)
    assert built_here(venv, "srconly") is None
    install_lines(installer, venv, "srconly==1.0\n", links)
    assert built_here(venv, "srconly") is not None


def test_config_settings_reach_that_build_only(
    tmp_path: Path, links: Path, installer: Installer
) -> None:
    venv = make_venv(tmp_path / "venv")
    text = "both==1.0 --no-binary both -C mark='a b'\nsrconly==1.0\n"
    install_lines(installer, venv, text, links)
    assert built_here(venv, "both") == "SETTINGS = {'mark': 'a b'}\n"
    assert built_here(venv, "srconly") in ("SETTINGS = None\n", "SETTINGS = {}\n")


def test_hashes_are_checked(tmp_path: Path, links: Path, installer: Installer) -> None:
    wheel = links / "both-1.0-py3-none-any.whl"
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    venv = make_venv(tmp_path / "venv")
    with pytest.raises(CommandError):
        install_lines(installer, venv, f"both==1.0 --only-binary both --hash={H1}\n", links)
    assert not (venv.site_packages / "both").exists()
    install_lines(installer, venv, f"both==1.0 --only-binary both --hash=sha256:{digest}\n", links)
    assert (venv.site_packages / "both").exists()

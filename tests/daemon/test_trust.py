"""End to end, "nothing a collaborator commits runs on this machine unapproved".

Each test is a reproduction: a watched project in sync, then a file change (an edit, a
`git checkout`) that brings a code source nobody approved: a `--find-links` folder, a direct
URL, a git URL, an index, an sdist that only a build can install, an include of a system file,
a symlink out of the project. The attack projects write a MARKER file when any build imports
their backend (testing/attacks.py): the marker must not exist before `venvsyncd allow`, and
must exist after it. The real daemon process, real pip, real git, a real loopback index.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testing.attacks import SimpleIndex, evil_git_repo, evil_sdist
from testing.daemonproc import DaemonProcess, installed_names, start, wait_for, watched
from testing.localproject import git, git_repo
from testing.venvs import make_venv, pip, pip_freeze
from testing.wheelhouse import build_wheel
from venvsyncd.cli import main
from venvsyncd.env.venvs import Venv

pytestmark = [pytest.mark.slow]

START = "alpha==1.0\n"


@pytest.fixture(autouse=True)
def own_pip_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A wheel pip built in another test (same URL, same name) must not stand in for a build."""
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SimpleIndex]:
    """A loopback simple index serving the files a test puts in `index.folder`."""
    folder = tmp_path / "served"
    folder.mkdir()
    served = SimpleIndex(folder)
    yield served
    served.close()


def _trust(config: Path, trust: str) -> None:
    config.write_text(
        config.read_text().replace("[daemon]", f'[defaults]\ntrust = "{trust}"\n[daemon]')
    )


def _ran(marker: Path) -> str:
    return marker.read_text() if marker.exists() else ""


def _change_is_held(
    daemon: DaemonProcess, venv: Venv, req: Path, text: str, name: str, marker: Path | None
) -> dict[str, Any]:
    """Save `text`; once the daemon is idle, nothing of it ran or was installed: its status."""
    before = pip_freeze(venv)
    req.write_text(text)
    shown: dict[str, Any] = daemon.idle()["projects"][0]
    if marker is not None:
        assert not marker.exists(), f"code of {name} ran before allow: {_ran(marker)}{shown}"
    assert name not in installed_names(venv), f"{name} was installed before allow: {shown}"
    assert pip_freeze(venv) == before, f"part of the change was installed before allow: {shown}"
    assert shown["state"] == "held", shown
    assert "venvsyncd allow" in (shown["message"] or ""), shown
    return shown


def _allowed(
    daemon: DaemonProcess, project: Path, venv: Venv, name: str, marker: Path | None
) -> dict[str, Any]:
    """`venvsyncd allow PROJECT` builds and installs `name`; the project is in sync after."""
    assert main(["allow", str(project)]) == 0
    wait_for(lambda: name in installed_names(venv), 60, f"{name} installed after allow")
    if marker is not None:
        assert marker.exists(), "allow installed the project without building it"
    shown: dict[str, Any] = daemon.idle()["projects"][0]
    assert shown["state"] == "in-sync", shown
    return shown


# ---- 1-4: a new code source in a file change --------------------------------------------------


def test_new_find_links_with_an_sdist_is_held_until_allow(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    marker = tmp_path / "MARKER"
    links = tmp_path / "links"
    evil_sdist(links, "evilpkg", "1.0", marker)
    venv, req, daemon = watched(daemon_factory, project, tmp_path, START, "alpha==1.0")
    change = f"--find-links {links}\nalpha==2.0\nevilpkg==1.0\n"  # a pin moves too
    shown = _change_is_held(daemon, venv, req, change, "evilpkg", marker)
    assert str(links) in shown["message"], shown
    _allowed(daemon, project, venv, "evilpkg", marker)
    assert "alpha==2.0" in pip_freeze(venv)


def test_new_direct_url_to_an_sdist_is_held_until_allow(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path, index: SimpleIndex
) -> None:
    marker = tmp_path / "MARKER"
    evil_sdist(index.folder, "evildirect", "1.0", marker)
    url = f"{index.url}/evildirect-1.0.tar.gz"
    venv, req, daemon = watched(daemon_factory, project, tmp_path, START, "alpha==1.0")
    shown = _change_is_held(daemon, venv, req, f"{START}evildirect @ {url}\n", "evildirect", marker)
    assert url in shown["message"], shown
    _allowed(daemon, project, venv, "evildirect", marker)


def test_new_git_requirement_is_held_until_allow(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    marker = tmp_path / "MARKER"
    url = evil_git_repo(tmp_path / "evilgit", "evilgit", "1.0", marker)
    venv, req, daemon = watched(daemon_factory, project, tmp_path, START, "alpha==1.0")
    shown = _change_is_held(daemon, venv, req, f"{START}evilgit @ {url}\n", "evilgit", marker)
    assert url.removesuffix("@main") in shown["message"], shown
    _allowed(daemon, project, venv, "evilgit", marker)


def test_new_index_is_held_until_allow(
    project: Path,
    daemon_factory: list[DaemonProcess],
    tmp_path: Path,
    index: SimpleIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pip's `--no-index` (the session's PIP_NO_INDEX) beats a file's `--index-url`: off here,
    # for the daemon and `allow`; the default index is an empty one, so nothing leaves the host
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.setenv("PIP_INDEX_URL", f"{index.url}/empty/")
    build_wheel(index.folder, "idxonly", "1.0")  # a wheel: no build, only the source is new
    venv, req, daemon = watched(daemon_factory, project, tmp_path, START, "alpha==1.0")
    change = f"--index-url {index.simple}\n--trusted-host 127.0.0.1\n{START}idxonly==1.0\n"
    shown = _change_is_held(daemon, venv, req, change, "idxonly", None)
    assert index.simple in shown["message"], shown
    _allowed(daemon, project, venv, "idxonly", None)


# ---- 5: an approved source, but only a build can satisfy the requirement ---------------------


def test_sdist_from_an_approved_find_links_is_not_built_until_allow(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    marker = tmp_path / "MARKER"
    links = tmp_path / "links"
    evil_sdist(links, "evilpkg", "1.0", marker)
    text = f"--find-links {links}\n{START}"  # approved at the first sync
    venv, req, daemon = watched(daemon_factory, project, tmp_path, text, "alpha==1.0")
    req.write_text(f"{text}evilpkg==1.0\n")
    shown = daemon.idle()["projects"][0]
    assert not marker.exists(), f"the daemon built an sdist unattended: {_ran(marker)}{shown}"
    assert "evilpkg" not in installed_names(venv), shown
    assert shown["state"] in ("held", "error"), shown
    assert "venvsyncd allow" in (shown["message"] or ""), shown
    assert "evilpkg" in shown["message"], shown
    _allowed(daemon, project, venv, "evilpkg", marker)


# ---- 6: the `trust` setting ------------------------------------------------------------------


def test_trust_pins_applies_a_pin_change_from_an_approved_source_alone(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path, config: Path
) -> None:
    _trust(config, "pins")
    venv, req, daemon = watched(daemon_factory, project, tmp_path, START, "alpha==1.0")
    req.write_text("alpha==2.0\n")
    shown = daemon.idle()["projects"][0]
    assert "alpha==2.0" in pip_freeze(venv), shown
    assert shown["state"] == "in-sync", shown


def test_trust_none_holds_a_pin_change(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path, config: Path
) -> None:
    _trust(config, "none")
    venv, req, daemon = watched(daemon_factory, project, tmp_path, START, "alpha==1.0")
    _change_is_held(daemon, venv, req, "alpha==2.0\n", "alpha==2.0", None)
    assert "alpha==1.0" in pip_freeze(venv)
    assert main(["allow", str(project)]) == 0
    wait_for(lambda: "alpha==2.0" in pip_freeze(venv), 60, "alpha 2.0 after allow")
    assert daemon.idle()["projects"][0]["state"] == "in-sync"


def test_trust_all_applies_a_new_source_without_allow(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path, config: Path
) -> None:
    _trust(config, "all")
    marker = tmp_path / "MARKER"
    links = tmp_path / "links"
    evil_sdist(links, "evilpkg", "1.0", marker)
    venv, req, daemon = watched(daemon_factory, project, tmp_path, START, "alpha==1.0")
    req.write_text(f"--find-links {links}\n{START}evilpkg==1.0\n")
    shown = daemon.idle()["projects"][0]
    assert "evilpkg" in installed_names(venv), shown
    assert marker.exists()
    assert shown["state"] == "in-sync", shown


# ---- 7: an include that is no requirements file ----------------------------------------------


def test_include_of_etc_passwd_is_one_clear_error(
    project: Path,
    daemon_factory: list[DaemonProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pip_log = tmp_path / "pip.log"  # every pip run, the daemon's included, appends here
    monkeypatch.setenv("PIP_LOG", str(pip_log))
    venv, req, daemon = watched(daemon_factory, project, tmp_path, START, "alpha==1.0")
    before = pip_freeze(venv)  # a pip run too: measure the log after it
    logged = pip_log.stat().st_size
    req.write_text(f"{START}eta==1.0\n-r /etc/passwd\n")
    shown = daemon.idle()["projects"][0]
    with open(pip_log, "rb") as log:
        log.seek(logged)
        ran = log.read().decode(errors="replace")
    assert not ran, f"pip ran for a file including /etc/passwd: {ran[:1500]}"
    assert pip_freeze(venv) == before, f"installed for a file including /etc/passwd: {shown}"
    assert shown["state"] == "error", shown
    assert "/etc/passwd" in (shown["message"] or ""), shown


# ---- 8: the requirements file becomes a symlink out of the project --------------------------


def test_symlink_out_of_the_project_is_not_followed_or_written_through(
    project: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"# shopping\n# milk, eggs\n\n# call the bank on monday\n")
    original = notes.read_bytes()
    req = project / "requirements.txt"
    req.write_text(START)
    (project / ".gitignore").write_text(".venv/\n")
    git_repo(project)
    git(project, "checkout", "-q", "-b", "notes")
    req.unlink()
    req.symlink_to(notes)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "requirements.txt -> notes.txt")
    git(project, "checkout", "-q", "main")
    venv = make_venv(project / ".venv", "alpha==1.0")
    daemon = start(daemon_factory, project, tmp=tmp_path)
    assert daemon.idle()["projects"][0]["state"] == "in-sync"
    git(project, "checkout", "-q", "notes")  # a collaborator's commit, pulled
    assert req.is_symlink()
    shown = daemon.idle()["projects"][0]
    assert "alpha" in installed_names(venv), f"alpha uninstalled for {notes}: {shown}"
    assert shown["state"] in ("held", "error"), shown
    pip(venv, "install", "eta")
    shown = daemon.idle()["projects"][0]
    assert notes.read_bytes() == original, f"venvsyncd wrote through the symlink: {shown}"
    assert req.is_symlink() and req.readlink() == notes
    assert {"alpha", "eta"} <= installed_names(venv)


# ---- 9: `allow --show` ----------------------------------------------------------------------


def test_allow_show_lists_the_new_sources_and_changes_nothing(
    project: Path,
    daemon_factory: list[DaemonProcess],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    marker = tmp_path / "MARKER"
    links = tmp_path / "links"
    evil_sdist(links, "evilpkg", "1.0", marker)
    venv, req, daemon = watched(daemon_factory, project, tmp_path, START, "alpha==1.0")
    change = f"--find-links {links}\n{START}evilpkg==1.0\n"
    _change_is_held(daemon, venv, req, change, "evilpkg", marker)
    capsys.readouterr()
    main(["allow", "--show", str(project)])
    shown_out = capsys.readouterr().out
    assert str(links) in shown_out, shown_out
    shown = daemon.idle()["projects"][0]
    assert not marker.exists(), f"`allow --show` ran the project's code: {_ran(marker)}"
    assert "evilpkg" not in installed_names(venv)
    assert shown["state"] == "held", shown
    assert req.read_text() == change

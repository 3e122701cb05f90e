"""Hostile shapes of a project under a real daemon: the file replaced by a folder, a symlink,
binary data, 10 MB, invalid UTF-8, includes 1,500 deep, a marker of 5,000 parentheses; the
venv deleted mid-install; the project folder gone.

What the user put there is never overwritten, the venv is never emptied to match a file
venvsyncd cannot read, the status says what is wrong, and the other projects are served.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess, slow_wheel, wait_for
from testing.faultkit import (
    Served,
    daemon_env,
    daemons,
    new_project,
    uv_install,
    wait_state,
    write_config,
)
from testing.venvs import pip_freeze

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
__all__ = ["daemons"]  # the fixture

Start = Callable[..., DaemonProcess]
TEXT = "# kept\nalpha==1.0\n"


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "inside.txt").write_text("not a requirements file\n")


def _binary(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(4096))


def _nul_bytes(path: Path) -> None:
    path.write_bytes(b"alpha==1.0\n\x00\x01\x02\x03 binary but valid UTF-8\n")


def _huge(path: Path) -> None:
    line = "# " + "x" * 97 + "\n"
    path.write_text(TEXT + line * 100_000)  # 10 MB


def _latin1(path: Path) -> None:
    path.write_bytes(b"# caf\xe9\nalpha==1.0\n")


def _dangling(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.parent / "nowhere.txt")


def _nul_include(path: Path) -> None:
    path.write_text(TEXT + "-r \0.txt\n")


def _nested_marker(path: Path) -> None:
    path.write_text(TEXT + "eta ; " + "(" * 5000 + 'python_version > "3"' + ")" * 5000 + "\n")


def _deep(path: Path) -> None:
    """-r chains 1,500 files deep: reading them must not exhaust Python's recursion."""
    nested = path.parent / "nested"
    nested.mkdir()
    for i in range(1500):
        (nested / f"r{i}.txt").write_text(f"-r r{i + 1}.txt\n")
    (nested / "r1500.txt").write_text("alpha==1.0\n")
    path.write_text(TEXT + "-r nested/r0.txt\n")


SHAPES: dict[str, tuple[Callable[[Path], None], str]] = {
    "folder": (_folder, "is not a file"),
    "binary": (_binary, "not valid UTF-8"),
    "nul": (_nul_bytes, "line 2"),
    "huge": (_huge, "too large"),
    "latin1": (_latin1, "not valid UTF-8"),
    "dangling": (_dangling, "deleted"),
    "deep": (_deep, "more than 100 deep"),
    "nested marker": (_nested_marker, "requirements.txt line 3: "),  # venvsyncd names the line
    "nul include": (_nul_include, "NUL byte"),
}


def _content(path: Path) -> object:
    if path.is_symlink():
        return ("symlink", path.readlink())
    if path.is_dir():
        return ("folder", sorted(p.name for p in path.iterdir()))
    return path.read_bytes()


def test_unreadable_files_are_errors_and_stay_as_the_user_left_them(
    tmp_path: Path, daemons: Start
) -> None:
    healthy = Served(tmp_path)
    projects = {name: new_project(tmp_path, name, TEXT, "alpha==1.0") for name in SHAPES}
    write_config([{"path": str(p)} for p, _ in [*projects.values(), (healthy.path, None)]])
    daemon = daemons()
    daemon.idle()
    for name, (make, _) in SHAPES.items():
        make(projects[name][0] / "requirements.txt")
    left = {name: _content(folder / "requirements.txt") for name, (folder, _) in projects.items()}
    for name, (_, said) in SHAPES.items():
        folder, venv = projects[name]
        shown = wait_state(daemon, folder, "error")
        assert said in shown["message"], (name, shown)
        uv_install(venv, "eta")  # an env change while the file is unreadable
    healthy.check(daemon)
    daemon.idle()
    for name, (folder, venv) in projects.items():
        assert _content(folder / "requirements.txt") == left[name], name
        assert daemon.project(folder)["state"] == "error", name
        assert pip_freeze(venv) == "alpha==1.0\neta==1.0\n", name  # nothing uninstalled


def test_a_symlink_inside_the_project_is_written_through_and_followed(
    tmp_path: Path, daemons: Start
) -> None:
    folder, venv = new_project(tmp_path, "linked", TEXT, "alpha==1.0")
    (folder / "reqs").mkdir()
    target = folder / "reqs" / "requirements.txt"
    target.write_text(TEXT)
    (folder / "requirements.txt").unlink()
    (folder / "requirements.txt").symlink_to(target)
    write_config([{"path": str(folder)}])
    daemon = daemons()
    daemon.idle()
    uv_install(venv, "eta")
    wait_for(lambda: "eta==1.0" in target.read_text(), 30, "eta written to the link's target")
    assert (folder / "requirements.txt").is_symlink()
    assert target.read_text() == TEXT + "eta==1.0\n"
    target.write_text(TEXT + "eta==1.0\ndelta==1.0\n")  # the user edits the target
    wait_for(lambda: "delta==1.0" in pip_freeze(venv), 60, "delta installed")
    assert daemon.idle()["projects"][0]["state"] == "in-sync"


def test_a_symlink_out_of_the_project_is_never_written_through(
    tmp_path: Path, daemons: Start
) -> None:
    folder, venv = new_project(tmp_path, "linked", TEXT, "alpha==1.0")
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "requirements.txt"
    target.write_text(TEXT)
    (folder / "requirements.txt").unlink()
    (folder / "requirements.txt").symlink_to(target)
    write_config([{"path": str(folder)}])
    daemon = daemons()
    daemon.idle()
    uv_install(venv, "eta")
    shown = wait_state(daemon, folder, "drift")
    assert str(target) in shown["message"]
    assert target.read_text() == TEXT  # never written through
    target.write_text(TEXT + "delta==1.0\n")  # edits there are still followed
    wait_for(lambda: "delta==1.0" in pip_freeze(venv), 60, "delta installed")


def _python_that_deletes_its_venv_after_pip(venv_root: Path) -> None:
    """The venv's `bin/python` runs the real one, then removes the whole venv once a
    `pip install` succeeded: a venv deleted the moment venvsyncd's install ends."""
    python = venv_root / "bin" / "python"
    real = python.resolve()
    python.unlink()
    python.write_text(
        "#!/bin/sh\n"
        f'"{venv_root}/bin/python3" "$@"; code=$?\n'
        f'if [ "$1 $2 $3" = "-m pip install" ] && [ $code = 0 ]; then rm -rf "{venv_root}"; fi\n'
        "exit $code\n"
    )
    python.chmod(0o755)
    assert real.exists()


@pytest.mark.parametrize("style", ["pip", "preserve"])
def test_venv_deleted_as_an_install_ends_leaves_the_file_whole(
    tmp_path: Path, daemons: Start, style: str
) -> None:
    text = "# kept\nalpha==1.0\nbeta==1.0\n"
    folder, venv = new_project(tmp_path, "doomed", text, "alpha==1.0", "beta==1.0")
    healthy = Served(tmp_path)
    project = {"path": str(folder), "style": style, "create_venv": False}
    write_config([project, {"path": str(healthy.path)}])
    daemon = daemons()
    daemon.idle()
    _python_that_deletes_its_venv_after_pip(venv.root)
    (folder / "requirements.txt").write_text(text + "eta==1.0\n")
    shown = wait_state(daemon, folder, "drift")  # the venv it had is gone: waited for
    assert "venv" in shown["message"] and "waits" in shown["message"], shown
    assert not venv.root.exists()
    assert (folder / "requirements.txt").read_text() == text + "eta==1.0\n"
    healthy.check(daemon)


def test_venv_deleted_during_a_slow_install(tmp_path: Path, daemons: Start) -> None:
    wheels = tmp_path / "slow"
    wheels.mkdir()
    slow_wheel(wheels, "slowpkg", modules=600)
    text = f"# kept\n--find-links {wheels}\nalpha==1.0\n"
    folder, venv = new_project(tmp_path, "doomed", text, "alpha==1.0")
    write_config([{"path": str(folder), "style": "pip", "create_venv": False}])
    daemon = daemons()
    daemon.idle()
    (folder / "requirements.txt").write_text(text + "slowpkg\n")
    wait_for(lambda: (venv.site_packages / "slowpkg").exists(), 60, "the daemon's pip to write")
    shutil.rmtree(venv.root, ignore_errors=True)
    wait_for(  # its pip has ended by then: the install's error, or the venv waited for
        lambda: daemon.project(folder)["state"] in ("error", "drift"), 60, "the venv's loss seen"
    )
    shutil.rmtree(venv.root, ignore_errors=True)  # what that pip wrote after the first rm
    wait_for(  # that pip's leftovers settle (events in the half-made .venv): same verdict
        lambda: daemon.project(folder)["state"] in ("error", "drift"), 60, "the loss still told"
    )
    assert (folder / "requirements.txt").read_text() == text + "slowpkg\n"


@pytest.mark.parametrize("how", ["renamed", "deleted"])
def test_project_folder_gone(tmp_path: Path, daemons: Start, how: str) -> None:
    healthy = Served(tmp_path)
    folder, venv = new_project(tmp_path, "moving", TEXT, "alpha==1.0")
    write_config([{"path": str(folder)}, {"path": str(healthy.path)}])
    daemon = daemons(env=daemon_env(VENVSYNCD_RESCAN_SECONDS="0.5"))
    daemon.idle()
    away = tmp_path / "moved"
    if how == "renamed":
        folder.rename(away)
    else:
        shutil.copytree(folder, away, symlinks=True)
        shutil.rmtree(folder)
    shown = wait_state(daemon, folder, "error")
    assert "project folder" in shown["message"], shown
    healthy.check(daemon)
    away.rename(folder)  # back where it was: in sync again, nothing changed on the way
    wait_state(daemon, folder, "in-sync")
    assert (folder / "requirements.txt").read_text() == TEXT
    assert pip_freeze(venv) == "alpha==1.0\n"
    uv_install(venv, "eta")  # and watched again
    wait_for(lambda: "eta" in (folder / "requirements.txt").read_text(), 30, "eta in the file")

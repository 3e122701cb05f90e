"""private.py: venvsyncd's own folders 0700 and files 0600, the user's alone, no symlink followed.

Real folders, real modes, real symlinks; "another user's" folders are chowned to a uid nobody
has (only root can, so those rows skip for other users).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from venvsyncd.system.files import atomic_write
from venvsyncd.system.private import (
    PRIVATE_FILE,
    NotPrivate,
    open_private_file,
    private_dir,
    private_dir_exists,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and owners")

STRANGER = 54_321  # a uid no account uses
IS_ROOT = os.name == "posix" and os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="only root can chown to another user")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def umask_002() -> Iterator[None]:
    """A umask that leaves folders group-writable (what Debian gives its users)."""
    old = os.umask(0o002)
    try:
        yield
    finally:
        os.umask(old)


# ---- folders ---------------------------------------------------------------------------------
def _made(folder: Path, bits: int) -> Path:
    folder.mkdir()
    folder.chmod(bits)
    return folder


def _strangers(folder: Path, bits: int) -> Path:
    _made(folder, bits)
    os.chown(folder, STRANGER, STRANGER)
    return folder


def _symlink_to_ours(folder: Path, bits: int) -> Path:
    target = _made(folder.parent / "elsewhere", bits)
    folder.symlink_to(target)
    return target


def _dangling(folder: Path, bits: int) -> Path:
    folder.symlink_to(folder.parent / "nowhere")
    return folder


def _a_file(folder: Path, bits: int) -> Path:
    folder.write_text("")
    return folder


# how the folder is found (planted, its mode) -> refused with which words (None: made private)
FOLDERS = [
    pytest.param(_made, 0o700, None, id="ours 0700"),
    pytest.param(_made, 0o755, None, id="ours 0755: tightened"),
    pytest.param(_made, 0o775, None, id="ours 0775 (umask 002): tightened"),
    pytest.param(_made, 0o711, None, id="ours 0711: tightened"),
    pytest.param(_made, 0o777, "is writable by every user", id="ours 0777: anyone's things in it"),
    pytest.param(_made, 0o1777, "is writable by every user", id="ours 1777"),
    pytest.param(_symlink_to_ours, 0o700, "is a symlink", id="a symlink to a folder of ours"),
    pytest.param(_dangling, 0o700, "is a symlink", id="a dangling symlink"),
    pytest.param(_a_file, 0o600, "is not a folder", id="a file"),
    pytest.param(_strangers, 0o700, "belongs to another user", id="another user's 0700",
                 marks=needs_root),
    pytest.param(_strangers, 0o777, "belongs to another user", id="another user's 0777",
                 marks=needs_root),
    pytest.param(_strangers, 0o1777, "belongs to another user", id="another user's 1777",
                 marks=needs_root),
]  # fmt: skip
Plant = Callable[[Path, int], object]


@pytest.mark.parametrize(("plant", "bits", "refused"), FOLDERS)
def test_the_top_folder(tmp_path: Path, plant: Plant, bits: int, refused: str | None) -> None:
    top = tmp_path / "venvsyncd"
    plant(top, bits)
    before = sorted(p.name for p in tmp_path.iterdir())
    if refused is None:
        assert private_dir(top / "projects" / "app", top) == top / "projects" / "app"
        assert [mode(f) for f in (top, top / "projects", top / "projects" / "app")] == [0o700] * 3
        return
    with pytest.raises(NotPrivate) as caught:
        private_dir(top / "projects", top)
    assert caught.value.message.startswith(f"{top} {refused}")
    assert caught.value.hint
    assert caught.value.filename == str(top)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made, nowhere
    assert not (tmp_path / "elsewhere" / "projects").exists()  # a symlink is never followed
    with pytest.raises(NotPrivate):  # looking is refused as well
        private_dir_exists(top / "projects", top)


@pytest.mark.parametrize(("plant", "bits", "refused"), FOLDERS)
def test_a_folder_below_the_top(
    tmp_path: Path, plant: Plant, bits: int, refused: str | None
) -> None:
    top = private_dir(tmp_path / "venvsyncd")
    projects = top / "projects"
    plant(projects, bits)
    if refused is None:
        private_dir(projects / "app", top)
        assert mode(projects) == mode(projects / "app") == 0o700
        return
    with pytest.raises(NotPrivate, match=refused):
        private_dir(projects / "app", top)
    assert not (tmp_path / "elsewhere" / "app").exists()  # a symlink is never followed
    assert not (tmp_path / "nowhere").exists()


def test_missing_folders_are_made_0700_whatever_the_umask(tmp_path: Path, umask_002: None) -> None:
    above = tmp_path / "user" / ".local" / "state"
    top = above / "venvsyncd"
    private_dir(top / "log", top)
    for folder in (tmp_path / "user", above, top, top / "log"):
        assert mode(folder) == 0o700, folder


def test_looking_makes_nothing(tmp_path: Path) -> None:
    top = tmp_path / "venvsyncd"
    assert private_dir_exists(top / "projects", top) is False
    assert not top.exists()
    private_dir(top)
    assert private_dir_exists(top / "projects", top) is False
    assert private_dir_exists(top, top) is True
    assert not (top / "projects").exists()


@pytest.mark.parametrize(("bits", "refused"), [
    (0o755, False),
    (0o775, False),  # group-writable: the user's group (venvsyncd's folder is then 0700)
    (0o1777, False),  # a shared folder like /tmp: no one can swap what is ours in it
    (0o777, True),  # anyone could swap venvsyncd's folder for theirs
])  # fmt: skip
def test_the_folder_above_the_top_is_the_users(tmp_path: Path, bits: int, refused: bool) -> None:
    shared = _made(tmp_path / "shared", bits)
    top = shared / "venvsyncd"
    if refused:
        with pytest.raises(NotPrivate, match="not sticky") as caught:
            private_dir(top, top)
        assert caught.value.message.startswith(str(shared))
        assert not top.exists()
    else:
        private_dir(top, top)
        assert mode(top) == 0o700
    assert mode(shared) == bits  # never changed: it is the user's choice


def test_the_folder_above_may_be_a_symlink(tmp_path: Path) -> None:
    real = private_dir(tmp_path / "real")
    (tmp_path / "state").symlink_to(real)
    private_dir(tmp_path / "state" / "venvsyncd" / "log", tmp_path / "state" / "venvsyncd")
    assert mode(real / "venvsyncd" / "log") == 0o700


def test_a_path_outside_its_root_is_a_mistake(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        private_dir(tmp_path / "a", tmp_path / "b")


# ---- files -----------------------------------------------------------------------------------
APPEND = os.O_WRONLY | os.O_APPEND


def _write(fd: int, data: bytes) -> None:
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def test_a_new_file_is_0600_whatever_the_umask(tmp_path: Path, umask_002: None) -> None:
    log = tmp_path / "venvsyncd.log"
    _write(open_private_file(log, APPEND), b"one\n")
    _write(open_private_file(log, APPEND), b"two\n")
    assert log.read_bytes() == b"one\ntwo\n" and mode(log) == 0o600


def test_a_file_of_ours_with_loose_bits_is_tightened(tmp_path: Path) -> None:
    log = tmp_path / "venvsyncd.log"
    log.write_text("old\n")
    log.chmod(0o644)
    _write(open_private_file(log, APPEND), b"new\n")
    assert log.read_text() == "old\nnew\n" and mode(log) == 0o600


@pytest.mark.parametrize("target_exists", [True, False])
def test_a_symlinked_file_is_refused_and_never_written_through(
    tmp_path: Path, target_exists: bool
) -> None:
    victim = tmp_path / "victim.txt"
    if target_exists:
        victim.write_text("mine\n")
        victim.chmod(0o644)
    log = tmp_path / "venvsyncd.log"
    log.symlink_to(victim)
    with pytest.raises(NotPrivate, match="is a symlink") as caught:
        open_private_file(log, APPEND)
    assert caught.value.message.startswith(str(log)) and str(log) in (caught.value.hint or "")
    if target_exists:
        assert victim.read_text() == "mine\n" and mode(victim) == 0o644
    else:
        assert not victim.exists()


def test_a_folder_where_a_file_belongs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "venvsyncd.log").mkdir()
    with pytest.raises(NotPrivate, match="is not a regular file"):
        open_private_file(tmp_path / "venvsyncd.log", APPEND)


@needs_root
def test_another_users_file_is_refused_untouched(tmp_path: Path) -> None:
    log = tmp_path / "venvsyncd.log"
    log.write_text("theirs\n")
    log.chmod(0o666)
    os.chown(log, STRANGER, STRANGER)
    with pytest.raises(NotPrivate, match="belongs to another user"):
        open_private_file(log, APPEND)
    assert log.read_text() == "theirs\n" and mode(log) == 0o666


# ---- atomic_write: private files, and users' files as before ---------------------------------
def test_atomic_write_makes_a_private_file_0600(tmp_path: Path, umask_002: None) -> None:
    state = tmp_path / "snapshot.json"
    atomic_write(state, b"{}", mode=PRIVATE_FILE)
    assert mode(state) == 0o600
    state.chmod(0o644)
    atomic_write(state, b"{1}", mode=PRIVATE_FILE)
    assert state.read_bytes() == b"{1}" and mode(state) == 0o600


def test_atomic_write_replaces_a_symlink_at_a_private_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    state = tmp_path / "snapshot.json"
    state.symlink_to(victim)
    atomic_write(state, b"{}", mode=PRIVATE_FILE)
    assert victim.read_text() == "mine\n"
    assert not state.is_symlink() and state.read_bytes() == b"{}" and mode(state) == 0o600


def test_atomic_write_keeps_a_users_file_as_it_was(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("a\n")
    real.chmod(0o640)
    link = tmp_path / "requirements.txt"
    link.symlink_to(real)
    atomic_write(link, b"b\n")
    assert link.is_symlink() and real.read_bytes() == b"b\n" and mode(real) == 0o640

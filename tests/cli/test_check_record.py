"""`sync --check` as a whole process: the record an in-sync sync leaves (system/insync.py)
answers without the engine while everything it names stands; anything else takes the full
path, which decides as before. Real venvs, real pip, real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testing.localproject import write_project
from testing.venvs import make_venv, pip, pip_freeze
from venvsyncd.cli import main
from venvsyncd.env.venvs import load_venv
from venvsyncd.paths import locations


@pytest.fixture
def app(tmp_path: Path, config: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    venv = make_venv(folder / ".venv", "alpha==1.0")
    os.utime(venv.site_packages, ns=(0, time.time_ns() - 10**9))  # installed a while ago
    (folder / "requirements.txt").write_text("alpha==1.0\n")
    assert main(["sync", str(folder)]) == 0
    return folder


def check(app: Path) -> tuple[int, str, bool]:
    """Exit code, output, and whether the engine was imported, of `sync --check APP`."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "venvsyncd", "sync", "--check", str(app)],
        capture_output=True,
        text=True,
        check=False,
    )
    engine = "venvsyncd.engine.sync" in proc.stderr
    return proc.returncode, proc.stdout, engine


def test_an_untouched_project_is_answered_from_the_record(app: Path) -> None:
    assert check(app) == (0, "in sync\n", False)


def test_a_change_takes_the_full_path(app: Path) -> None:
    req = app / "requirements.txt"
    req.write_text("alpha==1.0  # still met\n")
    assert check(app) == (0, "in sync\n", True)  # the full path decides, and leaves a record
    assert check(app) == (0, "in sync\n", False)
    pip(load_venv(app / ".venv"), "install", "beta")
    code, out, engine = check(app)
    assert (code, engine) == (1, True)
    assert out.startswith("out of sync")


def test_a_changed_config_or_snapshot_takes_the_full_path(app: Path, config: Path) -> None:
    config.write_text(config.read_text() + "\n# an edit\n")
    assert check(app)[2] is True
    assert check(app) == (0, "in sync\n", False)
    (snapshot,) = (locations().state_dir / "projects").glob("app-*/snapshot.json")
    snapshot.write_bytes(snapshot.read_bytes() + b" ")
    assert check(app)[2] is True


def test_no_record_for_a_venv_with_an_editable(app: Path, tmp_path: Path) -> None:
    project = write_project(tmp_path / "local", "localpkg", "1.0")
    pip(load_venv(app / ".venv"), "install", "--no-build-isolation", "-e", str(project))
    assert main(["sync", str(app), "--from", "env"]) == 0
    assert check(app)[2] is True
    assert check(app)[2] is True  # still the full way: its version control state is elsewhere


def test_freeze_prints_the_kept_freeze_while_site_packages_stands(app: Path) -> None:
    def freeze() -> tuple[str, bool]:
        argv = [sys.executable, "-X", "importtime", "-m", "venvsyncd", "freeze", str(app)]
        proc = subprocess.run(argv, capture_output=True, text=True, check=True)
        return proc.stdout, "venvsyncd.env.freeze" in proc.stderr

    venv = load_venv(app / ".venv")
    assert freeze() == (pip_freeze(venv), False) == ("alpha==1.0\n", False)
    pip(venv, "install", "beta")  # site-packages changes: the freeze is read again
    assert freeze() == (pip_freeze(venv), True)


def test_a_record_others_could_write_is_no_record(app: Path) -> None:
    (record,) = (locations().state_dir / "projects").glob("app-*/insync.txt")
    record.chmod(0o622)
    assert check(app)[2] is True  # the full way, which leaves a record of its own again
    assert check(app) == (0, "in sync\n", False)


def test_an_install_that_lands_while_the_record_is_written_is_not_hidden(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record's site-packages mark is the one taken before the venv was read: a `pip
    install` that lands after the read, while the sync ends, leaves a record that no longer
    holds, so `sync --check` and `freeze` look again instead of answering from it."""
    from venvsyncd.engine import health, rounds

    folder = tmp_path / "app"
    folder.mkdir()
    venv = make_venv(folder / ".venv", "alpha==1.0")
    (folder / "requirements.txt").write_text("alpha==1.0\n")
    real = health.record_in_sync

    def late_install(*args: object, **kwargs: object) -> None:
        pip(venv, "install", "delta")  # lands after the round read the venv
        real(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(rounds, "record_in_sync", late_install)
        assert main(["sync", str(folder)]) == 0
    code, out, engine = check(folder)
    assert (code, engine) == (1, True), out  # delta is in the venv, not in the file
    argv = [sys.executable, "-m", "venvsyncd", "freeze", str(folder)]
    assert "delta==1.0" in subprocess.run(argv, capture_output=True, text=True).stdout


def test_no_record_while_site_packages_has_just_changed(app: Path) -> None:
    """A change in the same clock tick as the last one would leave site-packages' mtime as it
    is: a freeze read right after a change is not recorded."""
    venv = load_venv(app / ".venv")
    (record,) = (locations().state_dir / "projects").glob("app-*/insync.txt")
    record.unlink()
    os.utime(venv.site_packages, ns=(0, time.time_ns() + 60 * 10**9))  # "just now", for a minute
    assert main(["sync", str(app)]) == 0
    assert not record.exists()
    os.utime(venv.site_packages, ns=(0, time.time_ns() - 10**9))
    assert main(["sync", str(app)]) == 0
    assert record.exists()


def freeze_of(folder: Path) -> tuple[str, bool]:
    """The output of a whole `venvsyncd freeze FOLDER`, and whether it read the venv."""
    argv = [sys.executable, "-X", "importtime", "-m", "venvsyncd", "freeze", str(folder)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=True)
    return proc.stdout, "venvsyncd.env.freeze" in proc.stderr


def test_a_venv_in_no_project_gets_a_freeze_record(tmp_path: Path, config: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    venv = make_venv(folder / ".venv", "alpha==1.0")
    os.utime(venv.site_packages, ns=(0, time.time_ns() - 10**9))
    assert freeze_of(folder) == ("alpha==1.0\n", True)
    assert freeze_of(folder) == ("alpha==1.0\n", False)  # from the record
    (record,) = (locations().state_dir / "freeze").glob("*.txt")
    assert record.stat().st_mode & 0o777 == 0o600
    pip(venv, "install", "beta")
    assert freeze_of(folder) == (pip_freeze(venv), True)
    record.chmod(0o666)  # others could write it: no record
    assert freeze_of(folder)[1] is True


def test_no_freeze_record_for_a_venv_with_an_editable(tmp_path: Path, config: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    venv = make_venv(folder / ".venv")
    project = write_project(tmp_path / "local", "localpkg", "1.0")
    pip(venv, "install", "--no-build-isolation", "-e", str(project))
    os.utime(venv.site_packages, ns=(0, time.time_ns() - 10**9))
    assert freeze_of(folder) == (pip_freeze(venv), True)
    assert freeze_of(folder)[1] is True


def test_the_fast_path_knows_the_venv_names() -> None:
    from venvsyncd.cli.fast_records import VENV_CANDIDATES
    from venvsyncd.env.venvs import VENV_CANDIDATES as KNOWN

    assert VENV_CANDIDATES == KNOWN


def test_a_flipped_pyvenv_cfg_makes_both_records_stale(app: Path, tmp_path: Path) -> None:
    """`include-system-site-packages = true` written into pyvenv.cfg by hand changes the
    freeze without touching site-packages: neither record answers after it."""
    cfg = app / ".venv" / "pyvenv.cfg"
    assert check(app) == (0, "in sync\n", False)
    assert freeze_of(app)[1] is False
    cfg.write_text(cfg.read_text().replace("= false", "= true"))
    assert check(app)[2] is True
    assert freeze_of(app)[1] is True
    loose = tmp_path / "loose"
    loose.mkdir()
    venv = make_venv(loose / ".venv")
    os.utime(venv.site_packages, ns=(0, time.time_ns() - 10**9))
    assert freeze_of(loose)[1] is True
    assert freeze_of(loose)[1] is False
    cfg = loose / ".venv" / "pyvenv.cfg"
    cfg.write_text(cfg.read_text() + "# edited\n")
    assert freeze_of(loose)[1] is True

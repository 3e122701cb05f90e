"""Acceptance: `venvsyncd sync` on real venvs with real pip and uv, offline.

Every test runs once with installer = "pip" and once with installer = "uv".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.venvs import make_venv, pip, pip_freeze, run
from venvsyncd.cli import main
from venvsyncd.env.venvs import Venv

HEADER = "# app requirements\r\n--prefer-binary\r\n\r\n"


def synced(project: Path, *args: str) -> int:
    return main(["sync", str(project), *args])


def setup_project(project: Path, text: str, *packages: str) -> tuple[Venv, Path]:
    venv = make_venv(project / ".venv", *packages)
    req = project / "requirements.txt"
    req.write_bytes(text.encode())
    assert synced(project) == 0  # the first sync: both sides agree, a snapshot is taken
    return venv, req


def test_pip_install_adds_lines_and_nothing_else(project: Path, installer: str) -> None:
    text = HEADER + "alpha==1.0  # pinned on purpose\r\n"
    venv, req = setup_project(project, text, "alpha==1.0")
    pip(venv, "install", "beta", "gamma[fast]")  # beta needs alpha (there); gamma[fast] pulls delta
    assert synced(project) == 0
    assert req.read_bytes().decode() == (
        HEADER + "alpha==1.0  # pinned on purpose\r\nbeta==1.0\r\ndelta==1.0\r\ngamma==1.0\r\n"
    )
    pip(venv, "install", "-U", "alpha==2.0")
    assert synced(project) == 0
    assert req.read_bytes().decode() == (
        HEADER + "alpha==2.0  # pinned on purpose\r\nbeta==1.0\r\ndelta==1.0\r\ngamma==1.0\r\n"
    )
    pip(venv, "uninstall", "-y", "gamma")
    assert synced(project) == 0
    assert req.read_bytes().decode() == (
        HEADER + "alpha==2.0  # pinned on purpose\r\nbeta==1.0\r\ndelta==1.0\r\n"
    )
    assert main(["sync", str(project), "--check"]) == 0


def test_file_edits_make_the_env_follow(project: Path, installer: str) -> None:
    venv, req = setup_project(project, "# deps\nalpha==1.0\nbeta==1.0\n", "alpha==1.0", "beta==1.0")
    edited = "# deps\nalpha==1.1\ngamma[fast]\n"  # bump alpha, drop beta, add gamma[fast]
    req.write_text(edited)
    assert synced(project) == 0
    assert req.read_text() == edited  # the file is not rewritten
    frozen = pip_freeze(venv)
    assert "alpha==1.1" in frozen and "beta" not in frozen and "delta==1.0" in frozen
    dry = pip(venv, "install", "--dry-run", "-r", str(req)).stdout
    assert "Would install" not in dry
    pip(venv, "check")
    req.write_text("# deps\ngamma[fast]\n")  # drop alpha: uninstalled; gamma's delta stays
    assert synced(project) == 0
    frozen = pip_freeze(venv)
    assert "alpha" not in frozen and "delta==1.0" in frozen and "gamma==1.0" in frozen


def test_conflict_touches_nothing_until_settled(
    project: Path, installer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    venv, req = setup_project(project, "alpha==1.0\n", "alpha==1.0")
    pip(venv, "install", "alpha==1.1")
    req.write_text("alpha==2.0\n")
    before = pip_freeze(venv)
    capsys.readouterr()
    assert synced(project) == 1
    assert "conflict" in capsys.readouterr().err
    assert req.read_text() == "alpha==2.0\n" and pip_freeze(venv) == before
    assert main(["diff", str(project)]) == 1
    shown = capsys.readouterr().out
    assert "venv changed" in shown and "file changed" in shown and "alpha" in shown
    assert synced(project, "--from", "file") == 0
    assert "alpha==2.0" in pip_freeze(venv) and req.read_text() == "alpha==2.0\n"


def test_failed_install_changes_nothing(
    project: Path, installer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    venv, req = setup_project(project, "alpha==1.0\n", "alpha==1.0")
    req.write_text("alpha==1.0\nbeta==9.9\n")
    before = pip_freeze(venv)
    capsys.readouterr()
    assert synced(project) == 1
    err = capsys.readouterr().err
    assert "beta" in err and "9.9" in err  # the installer's own error line
    assert req.read_text() == "alpha==1.0\nbeta==9.9\n" and pip_freeze(venv) == before


def test_first_sync_with_ask_is_drift_then_from_env(
    project: Path, installer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = make_venv(project / ".venv", "alpha==1.0", "eta")
    req = project / "requirements.txt"
    req.write_text("# mine\nalpha\n")
    assert synced(project) == 1
    assert "--from env" in capsys.readouterr().err
    assert main(["sync", str(project), "--check"]) == 1
    assert synced(project, "--from", "env") == 0
    assert req.read_text() == "# mine\nalpha\neta==1.0\n"
    assert main(["history", str(project)]) == 0
    assert main(["undo", str(project)]) == 0
    assert req.read_text() == "# mine\nalpha\n"
    del venv


def test_missing_venv_is_created_from_the_file(project: Path, installer: str) -> None:
    req = project / "requirements.txt"
    req.write_text("beta==1.0\n")
    assert synced(project) == 0
    venv_python = project / ".venv" / "bin" / "python"
    frozen = run([venv_python, "-m", "pip", "freeze"]).stdout
    assert frozen == "alpha==2.0\nbeta==1.0\n"
    assert req.read_text() == "beta==1.0\n"


def test_missing_file_is_written_from_the_venv(project: Path, installer: str) -> None:
    venv = make_venv(project / ".venv", "beta")
    assert synced(project) == 0
    assert (project / "requirements.txt").read_text() == pip_freeze(venv)

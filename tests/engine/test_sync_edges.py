"""The engine's edges: file options, hashes, no-op decisions, venv creation, corrupt state."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from testing.venvs import make_venv, pip, pip_freeze, which_python
from testing.wheelhouse import build_wheel
from venvsyncd.cli import main
from venvsyncd.engine.snapshot import project_state_dir
from venvsyncd.paths import locations


def write_config(text: str) -> None:
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[daemon]\ninstaller = "pip"\n' + text)


@pytest.fixture(autouse=True)
def pip_installer(isolated_home: Path) -> None:
    write_config("")


def test_file_options_reach_the_installer(project: Path) -> None:
    (project / "wheels").mkdir()
    build_wheel(project / "wheels", "omega", "1.0")  # only in the project's own find-links
    (project / "constraints.txt").write_text("alpha<2\n")
    venv = make_venv(project / ".venv", "eta")
    req = project / "requirements.txt"
    req.write_text("--find-links ./wheels\n-c constraints.txt\neta==1.0\n")
    assert main(["sync", str(project)]) == 0
    req.write_text("--find-links ./wheels\n-c constraints.txt\neta==1.0\nomega\nalpha\n")
    assert main(["sync", str(project)]) == 0
    frozen = pip_freeze(venv)
    assert "omega==1.0" in frozen and "alpha==1.1" in frozen  # the constraint held alpha < 2


def test_a_hash_file_takes_a_new_package_with_the_hashes_of_pip_s_find_links(
    project: Path, wheelhouse: Path
) -> None:
    """No index in the file: pip's configuration names the sources (here the session's
    PIP_NO_INDEX and PIP_FIND_LINKS), and a find-links folder's files are hashed."""
    venv = make_venv(project / ".venv", "alpha==1.0")
    req = project / "requirements.txt"
    text = "alpha==1.0 --hash=sha256:" + "0" * 64 + "\n"
    req.write_text(text)
    assert main(["sync", str(project)]) == 0
    pip(venv, "install", "eta")
    assert main(["sync", str(project)]) == 0
    (wheel,) = wheelhouse.glob("eta-1.0-*.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert req.read_text() == text + f"eta==1.0 --hash=sha256:{digest}\n"


def test_touched_but_satisfied_file_spawns_no_subprocess(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_venv(project / ".venv", "alpha==1.0")
    req = project / "requirements.txt"
    req.write_text("alpha==1.0\n")
    assert main(["sync", str(project)]) == 0
    req.write_text("# now with a comment\nalpha>=1.0\n")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    assert main(["sync", str(project)]) == 0
    assert main(["sync", str(project), "--check"]) == 0


def test_corrupt_snapshot_is_reported_and_rebuilt(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_venv(project / ".venv", "alpha==1.0")
    (project / "requirements.txt").write_text("alpha==1.0\n")
    assert main(["sync", str(project)]) == 0
    state = project_state_dir(locations().state_dir, project) / "snapshot.json"
    state.write_bytes(b'{"format": 1, "files": tru')
    capsys.readouterr()
    assert main(["sync", str(project)]) == 0
    assert "corrupt snapshot" in capsys.readouterr().err
    assert state.read_bytes().startswith(b"{")
    assert main(["sync", str(project), "--check"]) == 0


def test_missing_interpreter_is_a_clear_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config('[defaults]\npython = "3.99"\n')
    (project / "requirements.txt").write_text("alpha\n")
    assert main(["sync", str(project)]) == 1
    err = capsys.readouterr().err
    assert "python3.99" in err and "Traceback" not in err
    assert not (project / ".venv").exists()


def test_venv_created_with_the_python_the_project_asks_for(project: Path) -> None:
    python = which_python("3.12")
    if python is None:
        pytest.skip("no Python 3.12 on this machine")
    write_config(f'[defaults]\npython = "{python}"\n')
    (project / "requirements.txt").write_text("alpha==1.1\n")
    assert main(["sync", str(project)]) == 0
    cfg = (project / ".venv" / "pyvenv.cfg").read_text()
    assert "3.12" in cfg
    assert (project / ".venv" / "lib" / "python3.12" / "site-packages" / "alpha").is_dir()


def test_dry_run_changes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    venv = make_venv(project / ".venv", "alpha==1.0")
    req = project / "requirements.txt"
    req.write_text("alpha==1.0\n")
    assert main(["sync", str(project)]) == 0
    req.write_text("alpha==1.0\neta\n")
    pip(venv, "install", "delta")
    capsys.readouterr()
    assert main(["sync", str(project), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "install eta" in out and "add delta==1.0" in out
    assert req.read_text() == "alpha==1.0\neta\n" and "eta" not in pip_freeze(venv)
    assert main(["sync", str(project), "--check"]) == 1

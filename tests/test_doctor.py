"""`venvsyncd doctor`: broken venvs, bad configs, low inotify limits, hash-pinned files, and a
healthy setup with a running daemon and a (recorded) active service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess
from testing.tools import Tool
from venvsyncd.cli import main


@pytest.fixture
def config(isolated_home: Path) -> Path:
    path = Path(os.environ["VENVSYNCD_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def proc_sys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake /proc/sys with generous inotify limits (VENVSYNCD_PROC_SYS)."""
    root = tmp_path / "proc-sys"
    set_limits(root, watches=524288, instances=128)
    monkeypatch.setenv("VENVSYNCD_PROC_SYS", str(root))
    return root


def set_limits(root: Path, watches: int, instances: int) -> None:
    folder = root / "fs" / "inotify"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "max_user_watches").write_text(f"{watches}\n")
    (folder / "max_user_instances").write_text(f"{instances}\n")


def make_project(root: Path, requirements: str = "") -> Path:
    """A project with an empty venv (no pip needed to be healthy) and a requirements file."""
    root.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", root / ".venv"], check=True)
    (root / "requirements.txt").write_text(requirements)
    return root


def configure(config: Path, *projects: Path, extra: str = "") -> None:
    tables = "".join(f'[[project]]\npath = "{p}"\n{extra}' for p in projects)
    config.write_text("[daemon]\nsettle_seconds = 0.2\n" + tables)


def doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["doctor"])
    return code, capsys.readouterr().out.splitlines()


def failures(lines: list[str], what: str = "") -> list[str]:
    """The FAIL lines, those about `what` ("venv", "config:", ...) when given."""
    return [line for line in lines if line.startswith(f"FAIL  {what}")]


def test_a_venv_whose_interpreter_is_gone(
    config: Path, tmp_path: Path, proc_sys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_project(tmp_path / "app", "# nothing yet\n")
    (app / ".venv" / "bin" / "python").unlink()
    configure(config, app)
    code, lines = doctor(capsys)
    assert code == 1
    [line] = failures(lines, "venv ")
    assert f"its interpreter {app / '.venv' / 'bin' / 'python'} is missing" in line
    assert f"fix: recreate it: python3 -m venv --clear {app / '.venv'}" in line
    assert f"then reinstall: venvsyncd sync {app} --from file" in line
    assert lines[-1] == f"{len(failures(lines))} problems"


def test_a_venv_whose_base_python_is_gone(
    config: Path, tmp_path: Path, proc_sys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_project(tmp_path / "app")
    cfg = app / ".venv" / "pyvenv.cfg"
    gone = tmp_path / "uninstalled-python" / "bin"
    cfg.write_text(
        "".join(
            f"home = {gone}\n" if line.startswith("home") else line + "\n"
            for line in cfg.read_text().splitlines()
        )
    )
    configure(config, app, extra='python = "3.12"\n')
    code, lines = doctor(capsys)
    assert code == 1
    [line] = failures(lines, "venv ")
    assert f"the Python it was made from is gone (pyvenv.cfg home = {gone})" in line
    assert "fix: recreate it: python3.12 -m venv --clear" in line


def test_a_missing_folder_and_a_missing_venv(
    config: Path, tmp_path: Path, proc_sys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    configure(config, tmp_path / "gone", bare)
    code, lines = doctor(capsys)
    assert code == 1
    gone, venv = tmp_path / "gone", bare / ".venv"
    assert (
        f"FAIL  project {gone}: no such folder; "
        f"fix: create it, or take it out of the config: venvsyncd remove {gone}"
    ) in lines
    assert f"FAIL  venv {venv}: missing; fix: create it: python3 -m venv {venv}" in lines


def test_a_bad_config(config: Path, proc_sys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text('[daemon]\ninstaller = "pipx"\n')
    code, lines = doctor(capsys)
    assert code == 1  # doctor reports it; it is not a usage error of doctor's
    [line] = failures(lines, "config:")
    assert f"{config}: daemon.installer: 'pipx' is not one of 'pip', 'uv', 'auto'" in line
    assert "fix: set daemon.installer to one of: pip, uv, auto" in line
    assert failures(lines, "daemon: none answers")


def test_inotify_limits_too_low_for_the_projects(
    config: Path, tmp_path: Path, proc_sys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apps = [make_project(tmp_path / f"app{i}") for i in range(3)]
    configure(config, *apps)
    set_limits(proc_sys, watches=8, instances=0)
    code, lines = doctor(capsys)
    assert code == 1
    conf = "/etc/sysctl.d/60-venvsyncd-inotify.conf"
    assert (
        "FAIL  inotify: fs.inotify.max_user_watches is 8, the configured projects need 9; "
        "fix: sudo sysctl fs.inotify.max_user_watches=524288; to keep it after a reboot: "
        f"echo fs.inotify.max_user_watches=524288 | sudo tee -a {conf}"
    ) in lines
    [instances] = failures(lines, "inotify: fs.inotify.max_user_instances is 0")
    assert "fix: sudo sysctl fs.inotify.max_user_instances=1024" in instances
    set_limits(proc_sys, watches=9, instances=1)
    _, lines = doctor(capsys)
    assert failures(lines, "inotify:") == []


def test_a_hash_pinned_file_is_no_problem(
    config: Path, tmp_path: Path, proc_sys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """venvsyncd keeps such a file hashed (engine/hashing.py): doctor says what it is."""
    app = make_project(tmp_path / "app", f"alpha==1.0 --hash=sha256:{'0' * 64}\n")
    configure(config, app)
    _, lines = doctor(capsys)
    assert failures(lines, "requirements ") == []
    assert any("1 requirement, hash-pinned" in line for line in lines)


def test_an_unparsable_requirements_file(
    config: Path, tmp_path: Path, proc_sys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_project(tmp_path / "app", "alpha==1.0\nnot a requirement!!\n")
    configure(config, app)
    _, lines = doctor(capsys)
    [line] = failures(lines, str(app))
    assert "line 2" in line and "fix: fix that line" in line


def test_a_healthy_setup(
    config: Path,
    tmp_path: Path,
    proc_sys: Path,
    fake_tool: Tool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = make_project(tmp_path / "app", "# pinned by venvsyncd\n")
    configure(config, app)
    log = fake_tool("systemctl", {"is-enabled": "enabled", "is-active": "active"})
    assert main(["service", "install"]) == 0
    capsys.readouterr()
    daemon = DaemonProcess(log=tmp_path / "daemon.log")
    try:
        daemon.ready()
        code, lines = doctor(capsys)
    finally:
        daemon.stop()
    assert failures(lines) == []
    assert code == 0
    assert lines[-1] == "all is well"
    assert f"ok    daemon: pid {daemon.proc.pid} answers on {daemon.socket}" in lines
    assert any(line.startswith("ok    service (") for line in lines)
    assert log.read_text().splitlines()[-2:] == [
        "--user is-enabled venvsyncd.service",
        "--user is-active venvsyncd.service",
    ]

"""`venvsyncd service`: the rendered files (systemd-analyze, plistlib, the task schema), the
examples in service/, and install/uninstall/status with recorders standing in for systemctl,
launchctl and schtasks on PATH.

`python -m tests.service.test_service` writes the examples in service/ again from the templates.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from testing.tools import Tool, recorded
from venvsyncd import __version__
from venvsyncd.cli import main
from venvsyncd.paths import locations
from venvsyncd.service.units import (
    LAUNCHD,
    MARKER,
    SYSTEMD,
    TASK_SCHEDULER,
    ServiceSpec,
    render,
    systemd_exec_argv,
)

REPO = Path(__file__).resolve().parents[2]
TASK_NS = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"
EXAMPLES = {
    "venvsyncd.service": (SYSTEMD, ServiceSpec("/home/you/.venvs/venvsyncd/bin/python")),
    "com.venvsyncd.agent.plist": (
        LAUNCHD,
        ServiceSpec(
            "/Users/you/.venvs/venvsyncd/bin/python",
            log_dir="/Users/you/Library/Logs/venvsyncd",
        ),
    ),
    "venvsyncd-task.xml": (
        TASK_SCHEDULER,
        ServiceSpec(r"C:\Users\you\.venvs\venvsyncd\Scripts\python.exe", user=r"DESKTOP\you"),
    ),
}
UNIT = "venvsyncd.service"
NO_BUS = "Failed to connect to bus: No medium found"


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def unit_file(home: Path) -> Path:
    return home / ".config" / "systemd" / "user" / UNIT


# ---- systemd ---------------------------------------------------------------------------
def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found:
        return found
    if os.environ.get("CI") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "systemd"], check=True, capture_output=True, env=env
        )
        found = shutil.which("systemd-analyze")
        if found:
            return found
    pytest.skip("systemd-analyze is missing (CI installs Debian's systemd package when root)")


def verify(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify --user` on a copy named venvsyncd.service in its own folder."""
    analyze = _systemd_analyze()
    folder = tmp_path / "verify"
    folder.mkdir(exist_ok=True)
    copy = folder / UNIT
    shutil.copyfile(unit, copy)
    return subprocess.run(
        [analyze, "verify", "--user", str(copy)], capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd is Linux's")
def test_installed_unit_verifies_cleanly_and_runs_this_venvsyncd(
    isolated_home: Path, fake_tool: Tool, tmp_path: Path
) -> None:
    fake_tool("systemctl")
    assert main(["service", "install"]) == 0
    unit = unit_file(isolated_home)
    result = verify(unit, tmp_path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")

    text = unit.read_text()
    assert text.startswith(f"# {MARKER}")
    for line in ("Type=notify", "NotifyAccess=main", "Restart=on-failure", "WatchdogSec=60"):
        assert line in text.splitlines()
    assert "WantedBy=default.target" in text.splitlines()
    argv = systemd_exec_argv(text)
    assert argv == [sys.executable, "-m", "venvsyncd", "run"]
    version_argv = [("--version" if word == "run" else word) for word in argv]
    shown = subprocess.run(version_argv, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == f"venvsyncd {__version__}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd is Linux's")
def test_unit_quotes_paths_with_spaces_and_percent_signs(tmp_path: Path) -> None:
    folder = tmp_path / "my venv 100%" / "bin"
    folder.mkdir(parents=True)
    python = folder / "python"
    python.symlink_to(sys.executable)
    config = str(tmp_path / "odd $HOME" / "config.toml")
    unit = tmp_path / "rendered.service"
    unit.write_bytes(render(SYSTEMD, ServiceSpec(str(python), config_file=config)))
    result = verify(unit, tmp_path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    argv = systemd_exec_argv(unit.read_text())
    assert argv == [str(python), "-m", "venvsyncd", "run", "--config", config]


def test_a_non_default_config_is_passed_on(
    isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.toml"
    dry_run = ["service", "install", "--dry-run", "--platform", "linux"]
    assert main(["--config", str(other), *dry_run]) == 0
    out = capsys.readouterr().out
    assert f"ExecStart={sys.executable} -m venvsyncd run --config {other}\n" in out
    assert main(dry_run) == 0
    assert f"ExecStart={sys.executable} -m venvsyncd run\n" in capsys.readouterr().out


# ---- launchd and Task Scheduler --------------------------------------------------------
def test_plist_has_the_agent_keys() -> None:
    spec = ServiceSpec("/opt/venv/bin/python", config_file="/cfg/v.toml", log_dir="/logs/v")
    data = render(LAUNCHD, spec)
    agent = plistlib.loads(data)
    assert agent["Label"] == "com.venvsyncd.agent"
    assert agent["ProgramArguments"] == [
        "/opt/venv/bin/python",
        "-m",
        "venvsyncd",
        "run",
        "--config",
        "/cfg/v.toml",
    ]
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["StandardOutPath"] == "/logs/v/launchd.out.log"
    assert agent["StandardErrorPath"] == "/logs/v/launchd.err.log"
    assert MARKER.encode() in data


def test_task_xml_names_the_task_scheduler_schema() -> None:
    spec = ServiceSpec(r"C:\Program Files\venv\Scripts\python.exe", user=r"PC\ann & bob")
    data = render(TASK_SCHEDULER, spec)
    assert data.startswith(b"\xff\xfe")  # UTF-16 LE with a BOM, as schtasks wants it
    root = ET.fromstring(data)
    assert root.tag == f"{TASK_NS}Task"
    ns = {"t": TASK_NS.strip("{}")}
    assert root.find("t:Triggers/t:LogonTrigger/t:UserId", ns).text == r"PC\ann & bob"  # type: ignore[union-attr]
    settings = root.find("t:Settings", ns)
    assert settings is not None
    assert settings.find("t:Hidden", ns).text == "true"  # type: ignore[union-attr]
    assert settings.find("t:ExecutionTimeLimit", ns).text == "PT0S"  # type: ignore[union-attr]
    assert settings.find("t:RestartOnFailure/t:Count", ns) is not None
    command = root.find("t:Actions/t:Exec/t:Command", ns)
    arguments = root.find("t:Actions/t:Exec/t:Arguments", ns)
    assert command is not None and arguments is not None
    assert command.text == r"C:\Program Files\venv\Scripts\pythonw.exe"  # no console window
    assert arguments.text == "-m venvsyncd run"
    assert MARKER in root.find("t:RegistrationInfo/t:Description", ns).text  # type: ignore[union-attr,operator]


# ---- the examples in service/ ----------------------------------------------------------
def write_examples() -> None:
    for name, (manager, spec) in EXAMPLES.items():
        (REPO / "service" / name).write_bytes(render(manager, spec))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_are_the_templates_rendered(name: str) -> None:
    manager, spec = EXAMPLES[name]
    example = REPO / "service" / name
    assert example.read_bytes() == render(manager, spec), (
        f"{example} is out of step with the templates; run: python -m tests.test_service"
    )


# ---- install, status, uninstall: systemd -----------------------------------------------
def test_install_status_uninstall_with_systemctl(
    isolated_home: Path, fake_tool: Tool, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(isolated_home)
    log = fake_tool("systemctl", {"is-enabled": "enabled", "is-active": "active"})
    assert main(["service", "install"]) == 0
    assert recorded(log) == ["--user daemon-reload", f"--user enable --now {UNIT}"]
    assert unit_file(isolated_home).is_file()

    assert main(["service", "status"]) == 0
    assert recorded(log) == [f"--user is-enabled {UNIT}", f"--user is-active {UNIT}"]
    out = capsys.readouterr().out
    assert "installed: yes" in out and "enabled:   yes" in out and "active:    yes" in out

    assert main(["service", "install"]) == 0  # again: the new unit replaces the running one
    assert recorded(log) == [
        "--user daemon-reload",
        f"--user enable {UNIT}",
        f"--user restart {UNIT}",
    ]
    assert main(["service", "uninstall"]) == 0
    assert recorded(log) == [f"--user disable --now {UNIT}", "--user daemon-reload"]
    assert tree(isolated_home) == before
    assert main(["service", "uninstall"]) == 0  # nothing to do
    assert recorded(log) == []


def test_status_of_an_inactive_service_exits_1(
    isolated_home: Path, fake_tool: Tool, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tool("systemctl", {"is-enabled": "enabled", "is-active": "inactive"})
    assert main(["service", "status"]) == 1  # not installed either
    assert "installed: no" in capsys.readouterr().out
    assert main(["service", "install"]) == 0
    assert main(["service", "status"]) == 1
    assert "active:    no" in capsys.readouterr().out


@pytest.mark.parametrize("manager_missing", [False, True], ids=["no-session", "no-systemctl"])
def test_without_a_systemd_session_the_file_is_written_and_the_commands_printed(
    isolated_home: Path,
    fake_tool: Tool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    manager_missing: bool,
) -> None:
    before = tree(isolated_home)
    if manager_missing:
        empty = tmp_path / "empty-path"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
        why = "systemctl is not on PATH"
    else:
        log = fake_tool("systemctl", fail=NO_BUS)
        why = NO_BUS
    assert main(["service", "install"]) == 1
    assert unit_file(isolated_home).is_file()
    err = capsys.readouterr().err
    assert f"could not run `systemctl --user daemon-reload`: {why}" in err
    assert "  systemctl --user daemon-reload\n" in err
    assert f"  systemctl --user enable --now {UNIT}\n" in err
    assert "loginctl enable-linger" in err
    if not manager_missing:
        assert recorded(log) == ["--user daemon-reload"]  # it stops at the first failure

    assert main(["service", "uninstall"]) == 1
    err = capsys.readouterr().err
    assert f"  systemctl --user stop {UNIT}\n  systemctl --user daemon-reload\n" in err
    assert tree(isolated_home) == before


def test_dry_run_changes_nothing(
    isolated_home: Path, fake_tool: Tool, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fake_tool("systemctl")
    before = tree(isolated_home)
    assert main(["service", "install", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would write {unit_file(isolated_home)}:\n# {MARKER}" in out
    assert "Type=notify" in out
    assert out.endswith(
        f"would run:\n  systemctl --user daemon-reload\n  systemctl --user enable --now {UNIT}\n"
    )
    assert main(["service", "install"]) == 0
    recorded(log)
    installed = tree(isolated_home)
    for action in ("install", "uninstall", "status"):
        assert main(["service", action, "--dry-run"]) == 0
    assert recorded(log) == []
    assert tree(isolated_home) == installed
    assert main(["service", "uninstall"]) == 0
    assert tree(isolated_home) == before


def test_a_foreign_unit_is_not_overwritten_without_force(
    isolated_home: Path, fake_tool: Tool, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fake_tool("systemctl")
    unit = unit_file(isolated_home)
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/usr/bin/mine\n")
    assert main(["service", "install"]) == 1
    assert "was not written by venvsyncd" in capsys.readouterr().err
    assert main(["service", "uninstall"]) == 1
    assert unit.read_text() == "[Service]\nExecStart=/usr/bin/mine\n"
    assert recorded(log) == []
    assert main(["service", "install", "--force"]) == 0
    assert unit.read_text().startswith(f"# {MARKER}")
    replaced = ["--user daemon-reload", f"--user enable {UNIT}", f"--user restart {UNIT}"]
    assert recorded(log) == replaced


# ---- install, status, uninstall: launchd and schtasks, rehearsed on Linux --------------
def test_launchd_install_status_uninstall(
    isolated_home: Path, fake_tool: Tool, capsys: pytest.CaptureFixture[str]
) -> None:
    uid = os.getuid()
    target = f"gui/{uid}/com.venvsyncd.agent"
    plist = isolated_home / "Library" / "LaunchAgents" / "com.venvsyncd.agent.plist"
    log = fake_tool("launchctl", {"print": "\tstate = running"})
    locations().log_dir.mkdir(parents=True)  # the daemon's logs: launchd's go there too
    before = tree(isolated_home)
    assert main(["service", "install", "--platform", "darwin"]) == 0
    assert recorded(log) == [f"enable {target}", f"bootstrap gui/{uid} {plist}"]
    agent = plistlib.loads(plist.read_bytes())
    assert agent["ProgramArguments"] == [sys.executable, "-m", "venvsyncd", "run"]
    assert Path(agent["StandardOutPath"]).parent == locations().log_dir
    assert main(["service", "status", "--platform", "darwin"]) == 0
    assert recorded(log) == [f"print {target}"]
    assert main(["service", "uninstall", "--platform", "darwin"]) == 0
    assert recorded(log) == [f"bootout {target}"]
    assert tree(isolated_home) == before


def test_schtasks_install_status_uninstall(
    isolated_home: Path, fake_tool: Tool, capsys: pytest.CaptureFixture[str]
) -> None:
    task = locations().state_dir / "venvsyncd-task.xml"
    log = fake_tool("schtasks", {"CSV": '"\\venvsyncd","N/A","Running"'})
    before = tree(isolated_home)
    assert main(["service", "install", "--platform", "win32"]) == 0
    assert recorded(log) == [
        f"/Create /XML {task} /TN venvsyncd /F",
        "/Run /TN venvsyncd",
    ]
    assert ET.fromstring(task.read_bytes()).tag == f"{TASK_NS}Task"
    assert main(["service", "status", "--platform", "win32"]) == 0
    assert recorded(log) == [
        "/Query /TN venvsyncd /XML ONE",
        "/Query /TN venvsyncd /FO CSV /NH",
    ]
    assert main(["service", "uninstall", "--platform", "win32"]) == 0
    assert recorded(log) == ["/End /TN venvsyncd", "/Delete /TN venvsyncd /F"]
    assert tree(isolated_home) == before


if __name__ == "__main__":
    write_examples()

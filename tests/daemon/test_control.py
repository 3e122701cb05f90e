"""Controlling the real daemon: add/remove notifications, reload (SIGHUP), pause, resume."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess, wait_for
from testing.venvs import make_venv, pip, run
from venvsyncd.cli import main
from venvsyncd.env.venvs import Venv, load_venv

pytestmark = pytest.mark.slow


@pytest.fixture
def daemon(isolated_home: Path, tmp_path: Path) -> Iterator[DaemonProcess]:
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[daemon]\nsettle_seconds = 0.2\ninstaller = "pip"\n')
    process = DaemonProcess(log=tmp_path / "daemon.log")
    process.ready()
    yield process
    process.stop()


def app(tmp_path: Path, name: str = "app") -> tuple[Path, Path]:
    folder = tmp_path / name
    folder.mkdir()
    make_venv(folder / ".venv", "alpha==1.0")
    req = folder / "requirements.txt"
    req.write_text("alpha==1.0\n")
    return folder, req


def test_add_tells_the_daemon_and_remove_too(daemon: DaemonProcess, tmp_path: Path) -> None:
    folder, req = app(tmp_path)
    assert daemon.status()["projects"] == []
    assert main(["add", str(folder)]) == 0
    shown = daemon.idle()["projects"]
    assert [p["path"] for p in shown] == [str(folder)] and shown[0]["state"] == "in-sync"
    pip(venv_of(folder), "install", "eta")
    wait_for(lambda: "eta==1.0" in req.read_text(), 30, "eta in the file")
    assert main(["remove", str(folder)]) == 0
    assert daemon.status()["projects"] == []


def venv_of(folder: Path) -> Venv:
    return load_venv(folder / ".venv")


def test_sighup_reloads_the_config(daemon: DaemonProcess, tmp_path: Path) -> None:
    folder, _ = app(tmp_path)
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.write_text(config.read_text() + f'[[project]]\npath = "{folder}"\n')
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: daemon.status()["projects"], 30, "the reloaded project")
    assert daemon.idle()["projects"][0]["path"] == str(folder)


def test_bad_config_on_reload_keeps_the_old_one(
    daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.write_text("[daemon]\nsettle_seconds = -1\n")
    assert main(["reload"]) == 2  # a bad config, as for every other command
    assert "settle_seconds" in capsys.readouterr().err
    assert daemon.proc.poll() is None
    assert daemon.status()["daemon"]["pid"] == daemon.proc.pid
    assert "settle_seconds" in daemon.output()  # and the daemon's log says why


def test_pause_holds_changes_until_resume(daemon: DaemonProcess, tmp_path: Path) -> None:
    folder, req = app(tmp_path)
    assert main(["add", str(folder)]) == 0
    daemon.idle()
    assert main(["pause", str(folder)]) == 0
    assert daemon.project(folder)["state"] == "paused"
    pip(venv_of(folder), "install", "eta")
    assert daemon.idle()["projects"][0]["state"] == "paused"
    assert "eta" not in req.read_text()
    assert main(["resume", str(folder)]) == 0
    wait_for(lambda: "eta==1.0" in req.read_text(), 30, "eta after resume")


def test_status_client_loads_neither_watchdog_nor_the_engine(daemon: DaemonProcess) -> None:
    code = (
        "import sys; from venvsyncd.cli import main; rc = main(['status']); "
        "bad = [m for m in ('watchdog', 'venvsyncd.sync', 'venvsyncd.freeze', 'packaging') "
        "if m in sys.modules]; assert not bad, bad; raise SystemExit(rc)"
    )
    run([sys.executable, "-c", code])


def test_journald_lines_have_no_timestamp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from venvsyncd.daemon.logsetup import configure

    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    configure("info", tmp_path / "log")
    stream = logging.getLogger("venvsyncd").handlers[0]
    assert stream.formatter is not None and "asctime" not in str(stream.formatter._fmt)
    monkeypatch.delenv("JOURNAL_STREAM")
    configure("info", tmp_path / "log")
    stream = logging.getLogger("venvsyncd").handlers[0]
    assert "asctime" in str(stream.formatter._fmt)  # type: ignore[union-attr]
    logging.getLogger("venvsyncd").handlers.clear()

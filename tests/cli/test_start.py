"""`venvsyncd start`: the real daemon started in the background, back once it answers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.tools import Tool
from venvsyncd.cli import main
from venvsyncd.paths import locations
from venvsyncd.wire import client

pytestmark = pytest.mark.slow


@pytest.fixture
def stopped_after(config: Path) -> Iterator[None]:
    yield
    if client.ping(locations().socket) is not None:
        main(["stop"])


def test_start_returns_once_the_daemon_answers_and_again_is_fine(
    stopped_after: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["start"]) == 0
    pid = client.ping(locations().socket)
    assert pid is not None and "runs" in capsys.readouterr().out
    assert main(["status"]) == 0  # no projects: all (none) in sync
    assert main(["start"]) == 0  # already running: said, not a second daemon
    assert str(pid) in capsys.readouterr().out
    assert main(["stop"]) == 0
    assert client.ping(locations().socket) is None


def test_start_says_why_the_daemon_stopped_at_once(
    stopped_after: None, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.write_text("[daemon]\nsettle_seconds = -1\n")
    assert main(["start"]) == 1
    err = capsys.readouterr().err
    assert "did not start" in err and "settle_seconds" in err
    assert client.ping(locations().socket) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the systemd case")
def test_an_installed_service_whose_manager_fails_falls_back_to_a_direct_start(
    stopped_after: None, fake_tool: Tool, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fake_tool("systemctl", fail="Failed to connect to bus: No medium found")
    assert main(["service", "install"]) == 1  # the file is written; the manager is away
    assert main(["start"]) == 0
    assert "--user start venvsyncd.service" in log.read_text()
    assert client.ping(locations().socket) is not None

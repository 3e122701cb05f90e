"""The daemon keeps the file you meant (issue 16 so far): style "top", a dev file for the
tools, and orphans in `status`. The real daemon process, real pip, real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess, installed_names, start, wait_for
from testing.venvs import make_venv, pip
from testing.wheelhouse import build_wheel

pytestmark = [pytest.mark.slow]


def test_top_style_a_dev_file_and_orphans_through_the_daemon(
    project: Path, config: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    build_wheel(tools, "pytest", "99.0")
    config.write_text(
        config.read_text() + '[defaults]\nstyle = "top"\n'
        f'[[project]]\npath = "{project}"\n'
        'requirements = ["requirements.txt", "requirements-dev.txt"]\n'
    )
    venv = make_venv(project / ".venv", "delta==1.0")
    main_file, dev_file = project / "requirements.txt", project / "requirements-dev.txt"
    main_file.write_text("delta==1.0\n")
    daemon = start(daemon_factory, tmp=tmp_path)
    assert daemon.idle()["projects"][0]["state"] == "in-sync"

    dev_file.write_text("eta==1.0\n")  # a dev file made by hand is the project's too
    wait_for(lambda: "eta" in installed_names(venv), 30, "eta installed from the new dev file")
    pip(venv, "install", "--find-links", str(tools), "beta", "pytest")  # beta brings alpha
    wait_for(lambda: "pytest" in dev_file.read_text(), 30, "pytest in the dev file")
    shown = daemon.idle()["projects"][0]
    assert (shown["state"], shown["orphans"]) == ("in-sync", []), shown
    assert main_file.read_text() == "beta==1.0\ndelta==1.0\n"
    assert dev_file.read_text() == "eta==1.0\npytest==99.0\n"

    pip(venv, "uninstall", "--yes", "beta")  # alpha stays, and nothing needs it any more
    wait_for(lambda: "beta" not in main_file.read_text(), 30, "beta's line gone")
    shown = daemon.idle()["projects"][0]
    assert (shown["state"], shown["orphans"]) == ("in-sync", ["alpha"]), shown
    assert "nothing needs alpha any more" in daemon.output()

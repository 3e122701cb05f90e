"""The daemon keeps the file you meant (issue 16): style "top", a dev file for the tools,
orphans in `status`, and a pyproject.toml. The real daemon process, real pip and uv, real
files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess, installed_names, start, wait_for
from testing.venvs import UV, make_venv, pip, run
from testing.wheelhouse import build_wheel
from venvsyncd.env.venvs import Venv

pytestmark = [pytest.mark.slow]


def user(installer: str, venv: Venv, command: str, *args: str) -> None:
    """`pip install ...` or `uv pip install ...` (likewise uninstall), as the user runs it."""
    if installer == "pip":
        pip(venv, command, *(["--yes"] if command == "uninstall" else []), *args)
        return
    links = ["--find-links", os.environ["UV_FIND_LINKS"]] if command == "install" else []
    run([UV, "pip", command, "--python", venv.python, *links, *args])


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_top_style_a_dev_file_and_orphans_through_the_daemon(
    project: Path, config: Path, daemon_factory: list[DaemonProcess], tmp_path: Path, installer: str
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
    user(installer, venv, "install", "--find-links", str(tools), "beta", "pytest")  # +alpha
    wait_for(lambda: "pytest" in dev_file.read_text(), 30, "pytest in the dev file")
    shown = daemon.idle()["projects"][0]
    assert (shown["state"], shown["orphans"]) == ("in-sync", []), shown
    assert main_file.read_text() == "beta==1.0\ndelta==1.0\n"
    assert dev_file.read_text() == "eta==1.0\npytest==99.0\n"

    user(installer, venv, "uninstall", "beta")  # alpha stays, and nothing needs it any more
    wait_for(lambda: "beta" not in main_file.read_text(), 30, "beta's line gone")
    shown = daemon.idle()["projects"][0]
    assert (shown["state"], shown["orphans"]) == ("in-sync", ["alpha"]), shown
    assert "nothing needs alpha any more" in daemon.output()


def test_a_pyproject_through_the_daemon(
    project: Path, config: Path, daemon_factory: list[DaemonProcess], tmp_path: Path
) -> None:
    """`pip install beta` adds one entry to [project.dependencies], every other byte kept;
    an entry added by hand (a git pull) is installed."""
    config.write_text(
        config.read_text() + f'[[project]]\npath = "{project}"\nrequirements = "pyproject.toml"\n'
    )
    text = '[project]\nname = "app"  # mine\nversion = "1"\ndependencies = [\n    "delta",\n]\n'
    pyproject = project / "pyproject.toml"
    pyproject.write_text(text)
    venv = make_venv(project / ".venv", "delta==1.0")
    daemon = start(daemon_factory, tmp=tmp_path)
    assert daemon.idle()["projects"][0]["state"] == "in-sync"
    pip(venv, "install", "beta")  # brings alpha, which stays out
    wait_for(lambda: "beta" in pyproject.read_text(), 30, "beta in the pyproject")
    text = text.replace('"delta",\n', '"beta>=1.0",\n    "delta",\n')
    assert pyproject.read_text() == text
    pyproject.write_text(text.replace('    "delta",\n', '    "delta",\n    "eta",\n'))
    wait_for(lambda: "eta" in installed_names(venv), 30, "eta installed from the pyproject")
    assert daemon.idle()["projects"][0]["state"] == "in-sync"

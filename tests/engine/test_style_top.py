"""style = "top": the file lists what the user asked for, not what came with it (pip-chill's
rule, from the installed metadata, so the same for pip and uv). Real venvs, real installers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.venvs import UV, make_venv, pip, run
from venvsyncd.cli import main
from venvsyncd.env.venvs import Venv


def top_project(project: Path, text: str, *packages: str) -> tuple[Venv, Path]:
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.write_text(config.read_text() + '[defaults]\nstyle = "top"\n')
    venv = make_venv(project / ".venv", *packages)
    req = project / "requirements.txt"
    req.write_text(text)
    assert main(["sync", str(project)]) == 0
    return venv, req


def user_install(venv: Venv, installer: str, *args: str) -> None:
    if installer == "uv":
        run([UV, "pip", "install", "--python", venv.python, *args])
    else:
        pip(venv, "install", *args)


def test_a_package_is_added_without_what_it_brings(project: Path, installer: str) -> None:
    venv, req = top_project(project, "# mine\nalpha>=1.0\n", "alpha==1.0")
    user_install(venv, installer, "beta", "epsilon")  # beta needs alpha; epsilon brings eta
    assert main(["sync", str(project)]) == 0
    assert req.read_text() == "# mine\nalpha>=1.0\nbeta==1.0\nepsilon==1.0\n"
    pip(venv, "uninstall", "--yes", "epsilon")
    assert main(["sync", str(project)]) == 0
    assert req.read_text() == "# mine\nalpha>=1.0\nbeta==1.0\n"


def test_a_line_already_in_the_file_is_kept_up_to_date(project: Path, installer: str) -> None:
    """A dependency the user named stays named, and its pin moves; a range still met stays."""
    venv, req = top_project(project, "beta\nalpha==1.0\n", "beta==1.0", "alpha==1.0")
    user_install(venv, installer, "alpha==2.0")
    assert main(["sync", str(project)]) == 0
    assert req.read_text() == "beta\nalpha==2.0\n"


def test_a_new_file_lists_the_top_level_only(project: Path, config: Path) -> None:
    config.write_text(config.read_text() + '[defaults]\nstyle = "top"\n')
    make_venv(project / ".venv", "beta==1.0", "epsilon==1.0")
    assert main(["sync", str(project)]) == 0
    assert (project / "requirements.txt").read_text() == "beta==1.0\nepsilon==1.0\n"


@pytest.mark.parametrize(
    ("style", "after"),
    [
        ("preserve", "# web app\nalpha==2.0\nbeta==1.0\ndelta>=1.0\n"),
        ("top", "# web app\nbeta==1.0\ndelta>=1.0\n"),
        ("pip", "alpha==2.0\nbeta==1.0\ndelta==1.0\n"),
    ],
)
def test_the_readme_s_table_of_styles(project: Path, config: Path, style: str, after: str) -> None:
    """README, "How a sync decides": the same `pip install beta` in each style."""
    config.write_text(config.read_text() + f'[defaults]\nstyle = "{style}"\n')
    venv = make_venv(project / ".venv", "delta==1.0")
    req = project / "requirements.txt"
    req.write_text("# web app\ndelta>=1.0\n")
    assert main(["sync", str(project)]) == 0
    pip(venv, "install", "beta")
    assert main(["sync", str(project)]) == 0
    assert req.read_text() == after

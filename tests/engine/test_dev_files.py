"""A dev file: `requirements = ["requirements.txt", "requirements-dev.txt"]` sends a new
package whose name a `dev` glob matches (test, lint, type-check, docs tools) to the dev file,
everything else to the main file; both are edited by the same lossless rules, and what the
dev file names is installed too. Real venvs, real pip and uv."""

from __future__ import annotations

import os
from pathlib import Path

from testing.venvs import make_venv, pip_freeze, user_install
from venvsyncd.cli import main


def configure(project: Path, installer: str, extra: str = "") -> None:
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.write_text(
        f'[daemon]\ninstaller = "{installer}"\n[defaults]\nstyle = "top"\n'
        f'[[project]]\npath = "{project}"\n'
        f'requirements = ["requirements.txt", "requirements-dev.txt"]\n{extra}'
    )


def test_dev_tools_go_to_the_dev_file_and_the_rest_to_the_main_one(
    project: Path, installer: str, tools: Path
) -> None:
    configure(project, installer)
    venv = make_venv(project / ".venv", "alpha==1.0")
    main_file, dev_file = project / "requirements.txt", project / "requirements-dev.txt"
    main_file.write_text("alpha==1.0\n")
    assert main(["sync", str(project)]) == 0
    assert not dev_file.exists()
    user_install(venv, installer, tools, "pytest", "types-requests", "libthing")
    assert main(["sync", str(project)]) == 0
    assert main_file.read_text() == "alpha==1.0\nlibthing==1.0\n"
    assert dev_file.read_text() == "pytest==99.0\ntypes-requests==2.0\n"  # made, sorted
    assert main(["sync", str(project), "--check"]) == 0  # the new file is known, not a change


def test_a_dev_file_that_includes_the_main_one(project: Path, config: Path, tools: Path) -> None:
    """`-r requirements.txt` in the dev file: a package stays in the file that names it."""
    installer = "pip"
    configure(project, installer)
    venv = make_venv(project / ".venv", "alpha==1.0")
    main_file, dev_file = project / "requirements.txt", project / "requirements-dev.txt"
    main_file.write_text("alpha==1.0\n")
    dev_file.write_text("-r requirements.txt\n# tools\n")
    assert main(["sync", str(project)]) == 0
    user_install(venv, installer, tools, "pytest", "alpha==2.0")
    assert main(["sync", str(project)]) == 0
    assert main_file.read_text() == "alpha==2.0\n"
    assert dev_file.read_text() == "-r requirements.txt\n# tools\npytest==99.0\n"


def test_a_line_added_to_the_dev_file_is_installed(
    project: Path, config: Path, tools: Path
) -> None:
    installer = "pip"
    configure(project, installer)
    venv = make_venv(project / ".venv", "alpha==1.0")
    (project / "requirements.txt").write_text("alpha==1.0\n")
    dev_file = project / "requirements-dev.txt"
    dev_file.write_text(f"--find-links {tools}\n")
    assert main(["sync", str(project)]) == 0
    dev_file.write_text(f"--find-links {tools}\ntypes-requests==2.0\n")
    assert main(["sync", str(project), "--from", "file"]) == 0
    assert "types-requests==2.0" in pip_freeze(venv).split()


def test_the_dev_globs_are_a_setting(project: Path, config: Path, tools: Path) -> None:
    installer = "pip"
    configure(project, installer, extra='dev = ["lib*"]\n')
    venv = make_venv(project / ".venv", "alpha==1.0")
    (project / "requirements.txt").write_text("alpha==1.0\n")
    assert main(["sync", str(project)]) == 0
    user_install(venv, installer, tools, "libthing", "types-requests")
    assert main(["sync", str(project)]) == 0
    assert (project / "requirements-dev.txt").read_text() == "libthing==1.0\n"
    assert (project / "requirements.txt").read_text() == "alpha==1.0\ntypes-requests==2.0\n"

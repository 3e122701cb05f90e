"""pyproject.toml as the file: `requirements = "pyproject.toml"` keeps `[project.dependencies]`
and the `[dependency-groups]` (the dev files) in step with the venv, by the top rule, every
other byte kept. Real venvs, real pip and uv."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.localproject import write_project
from testing.venvs import make_venv, pip, pip_freeze, user_install
from venvsyncd.cli import main
from venvsyncd.env.venvs import load_venv

PYPROJECT = """\
[build-system]
requires = ["hatchling"]  # kept

[project]
name = "app"
version = "0.1.0"
# what the app needs
dependencies = [
    'delta>=1.0',  # in single quotes, with a comment
]

[dependency-groups]
# the test tools
dev = [
    "pluggy",
]

[tool.ruff]
line-length = 100
"""


def configure(project: Path, installer: str, extra: str = "") -> Path:
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[daemon]\ninstaller = "{installer}"\n'
        f'[[project]]\npath = "{project}"\nrequirements = "pyproject.toml"\n{extra}'
    )
    return project / "pyproject.toml"


def test_an_install_adds_one_entry_and_nothing_else_changes(
    project: Path, installer: str, tools: Path
) -> None:
    """The issue's acceptance: `pip install beta` (which brings alpha) adds `beta>=1.0` to
    [project.dependencies]; `pytest` (which brings pluggy, already in the group) goes to the
    dev group; every other byte stays. Then an uninstall takes the entry away again."""
    pyproject = configure(project, installer)
    pyproject.write_text(PYPROJECT)
    venv = make_venv(project / ".venv", "delta==1.0", "--find-links", str(tools), "pluggy")
    assert main(["sync", str(project)]) == 0
    user_install(venv, installer, tools, "beta", "pytest")
    assert main(["sync", str(project)]) == 0
    added = PYPROJECT.replace(
        "    'delta>=1.0',  # in single quotes, with a comment\n",
        "    'beta>=1.0',\n    'delta>=1.0',  # in single quotes, with a comment\n",
    ).replace('    "pluggy",\n', '    "pluggy",\n    "pytest>=99.0",\n')
    assert pyproject.read_text() == added
    pip(venv, "uninstall", "--yes", "beta")
    assert main(["sync", str(project)]) == 0
    assert pyproject.read_text() == added.replace("    'beta>=1.0',\n", "")


def test_pin_equals_and_a_file_edit_installs_and_uninstalls(project: Path, installer: str) -> None:
    pyproject = configure(project, installer, 'pin = "=="\n')
    pyproject.write_text('[project]\nname = "app"\nversion = "1"\ndependencies = ["delta"]\n')
    venv = make_venv(project / ".venv", "delta==1.0")
    assert main(["sync", str(project)]) == 0
    pip(venv, "install", "epsilon")  # brings eta, which stays out
    assert main(["sync", str(project)]) == 0
    text = '[project]\nname = "app"\nversion = "1"\ndependencies = ["delta", "epsilon==1.0"]\n'
    assert pyproject.read_text() == text
    pyproject.write_text(text.replace('"delta", ', '"alpha>=2", '))  # an edit, or a git pull
    assert main(["sync", str(project)]) == 0
    frozen = pip_freeze(venv)
    assert "alpha==2.0" in frozen
    assert "delta==" not in frozen
    assert "epsilon==1.0" in frozen


def test_a_new_venv_is_filled_from_the_pyproject(project: Path, installer: str) -> None:
    pyproject = configure(project, installer)
    pyproject.write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["beta"]\n'
        '[dependency-groups]\ndev = ["delta"]\n'
    )
    assert main(["sync", str(project)]) == 0
    frozen = pip_freeze(load_venv(project / ".venv"))
    assert {"alpha==2.0", "beta==1.0", "delta==1.0"} <= set(frozen.split())


def test_no_project_table_writes_nothing_and_says_why(
    project: Path, installer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = configure(project, installer)
    text = "[tool.ruff]\nline-length = 100\n"
    pyproject.write_text(text)
    venv = make_venv(project / ".venv")
    assert main(["sync", str(project)]) == 0
    pip(venv, "install", "delta")
    assert main(["sync", str(project)]) != 0
    assert pyproject.read_text() == text
    assert "[project] table" in capsys.readouterr().err


def test_the_readme_s_row(project: Path) -> None:
    """README, "How a sync decides": the pyproject row of the styles table."""
    pyproject = configure(project, "pip")
    before = (
        '[project]\nname = "app"\nversion = "1"\ndependencies = [\n    "delta>=1.0",  # db\n]\n'
    )
    pyproject.write_text(before)
    venv = make_venv(project / ".venv", "delta==1.0")
    assert main(["sync", str(project)]) == 0
    pip(venv, "install", "beta")
    assert main(["sync", str(project)]) == 0
    assert pyproject.read_text() == before.replace("[\n", '[\n    "beta>=1.0",\n')


def test_an_emptied_or_half_written_pyproject_uninstalls_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An emptied file waits for `allow`, as an emptied requirements file does; a file cut
    off mid-save is an error naming it, and the sync after the save completes is clean."""
    pyproject = configure(project, "pip")
    text = '[project]\nname = "app"\nversion = "1"\ndependencies = ["beta", "delta"]\n'
    pyproject.write_text(text)
    venv = make_venv(project / ".venv", "beta==1.0", "delta==1.0")
    assert main(["sync", str(project)]) == 0
    before = pip_freeze(venv)
    pyproject.write_text("")
    assert main(["sync", str(project)]) != 0
    assert "held" in capsys.readouterr().err
    pyproject.write_text(text[: text.index('"delta"')])
    assert main(["sync", str(project)]) != 0
    assert "pyproject.toml is not valid TOML" in capsys.readouterr().err
    assert pip_freeze(venv) == before
    pyproject.write_text(text)
    assert main(["sync", str(project)]) == 0
    assert pip_freeze(venv) == before


def test_the_project_itself_is_never_its_own_dependency(project: Path) -> None:
    """`pip install -e .`, the usual first step in a pyproject project, installs the project:
    it is at the top level, but it stays out of its own [project.dependencies]."""
    pyproject = configure(project, "pip")
    write_project(project, "app", "1.0")  # an in-tree build backend, offline
    text = pyproject.read_text() + '[project]\nname = "App"\nversion = "1.0"\ndependencies = []\n'
    pyproject.write_text(text)
    venv = make_venv(project / ".venv")
    assert main(["sync", str(project)]) == 0
    pip(venv, "install", "--no-build-isolation", "-e", str(project))
    pip(venv, "install", "delta")
    assert main(["sync", str(project)]) == 0
    assert pyproject.read_text() == text.replace(
        "dependencies = []", 'dependencies = ["delta>=1.0"]'
    )


def test_a_save_that_lands_while_the_pyproject_is_written_is_kept(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's editor saves pyproject.toml between venvsyncd's read and its write: the
    write is a compare-and-swap, so the save stays, and the next round adds the new entry
    to what was saved."""
    from venvsyncd.engine.writeback import planned_writes

    pyproject = configure(project, "pip")
    text = '[project]\nname = "app"\nversion = "1"\ndependencies = [\n    "delta",\n]\n'
    pyproject.write_text(text)
    venv = make_venv(project / ".venv", "delta==1.0")
    assert main(["sync", str(project)]) == 0
    pip(venv, "install", "beta")
    saved = text.replace("[project]\n", "# saved by the editor\n[project]\n")
    saves: list[int] = []

    def save_meanwhile(*args: object, **kwargs: object) -> object:
        writes = planned_writes(*args, **kwargs)  # type: ignore[arg-type]
        if not saves:
            saves.append(pyproject.write_text(saved))
        return writes

    with monkeypatch.context() as patched:
        patched.setattr("venvsyncd.engine.rounds.planned_writes", save_meanwhile)
        assert main(["sync", str(project)]) == 0
    assert saves
    assert pyproject.read_text() == saved.replace(
        '    "delta",\n', '    "beta>=1.0",\n    "delta",\n'
    )


def test_a_style_override_is_refused_for_a_pyproject(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = configure(project, "pip")
    pyproject.write_text('[project]\nname = "app"\nversion = "1"\ndependencies = []\n')
    assert main(["sync", str(project), "--style", "pip"]) == 2
    assert "style top always" in capsys.readouterr().err

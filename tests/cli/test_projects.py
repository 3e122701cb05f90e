"""`add`, `remove`, `list` and config errors through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.venvs import run
from venvsyncd.cli import main

COMMENTED = """\
# my venvsyncd config
[daemon]
settle_seconds = 0.5   # quick

[defaults]
mode = "both"

# the web app
[[project]]
path = "~/code/web"
"""


def config_file() -> Path:
    return Path(os.environ["VENVSYNCD_CONFIG"])


def make_project(folder: Path, venv: bool = True, requirements: bool = False) -> Path:
    folder.mkdir(parents=True)
    if venv:
        run([sys.executable, "-m", "venv", "--without-pip", folder / ".venv"])
    if requirements:
        (folder / "requirements.txt").write_text("alpha\n")
    return folder


def test_add_then_remove_returns_the_exact_bytes(tmp_path: Path) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text(COMMENTED)
    app = make_project(tmp_path / "app")
    assert main(["add", str(app), "--mode", "freeze", "--style", "pip"]) == 0
    text = config_file().read_text()
    assert text.startswith(COMMENTED) and "[[project]]" in text[len(COMMENTED) :]
    assert main(["remove", str(app)]) == 0
    assert config_file().read_text() == COMMENTED


def test_add_creates_the_config_and_list_resolves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_project(tmp_path / "app", venv=True, requirements=True)
    assert main(["add", str(app)]) == 0
    capsys.readouterr()
    assert main(["list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["projects"]
    assert listed == [
        {
            "path": str(app),
            "venv": str(app / ".venv"),
            "requirements": str(app / "requirements.txt"),
            "python": ".".join(map(str, sys.version_info[:3])),
            "mode": "both",
            "style": "preserve",
        }
    ]
    assert main(["list"]) == 0
    assert str(app) in capsys.readouterr().out


def test_add_twice_says_it_is_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_project(tmp_path / "app")
    assert main(["add", str(app)]) == 0
    before = config_file().read_bytes()
    assert main(["add", str(app)]) == 0
    assert "already" in capsys.readouterr().out
    assert config_file().read_bytes() == before


def test_add_refuses_a_folder_with_nothing_to_sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = make_project(tmp_path / "empty", venv=False)
    assert main(["add", str(empty)]) == 1
    err = capsys.readouterr().err
    assert "neither a virtual environment" in err and "hint: create one first" in err
    assert not config_file().exists()


def test_add_rejects_a_bad_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_project(tmp_path / "app")
    assert main(["add", str(app), "--mode", "sideways"]) == 2
    assert "--mode: 'sideways' is not one of 'both', 'freeze', 'install'" in capsys.readouterr().err


def test_remove_of_unknown_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remove", str(tmp_path)]) == 1
    assert "is not a project" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[daemon]\nsettel_seconds = 1\n", ["daemon.settel_seconds", "settle_seconds"]),
        ("[defaults]\nmode = 3\n", ["defaults.mode"]),
        ("[daemon\n", ["not valid TOML", "line 1"]),
        ('[[project]]\nvenv = ".venv"\n', ["project[1]", "path"]),
    ],
)
def test_config_errors_exit_2_without_traceback(text: str, words: list[str]) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "venvsyncd", "list"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and str(config_file()) in proc.stderr
    for word in words:
        assert word in proc.stderr


def test_version_and_help() -> None:
    out = run([sys.executable, "-m", "venvsyncd", "--version"]).stdout
    assert out.startswith("venvsyncd 0.")
    helptext = run([sys.executable, "-m", "venvsyncd", "--help"]).stdout
    for command in ("freeze", "add", "remove", "list", "sync", "diff", "history", "undo"):
        assert command in helptext


def test_client_commands_do_not_import_watchdog(tmp_path: Path) -> None:
    app = make_project(tmp_path / "app")
    code = (
        "import sys; from venvsyncd.cli import main; "
        f"main(['freeze', {str(app)!r}]); main(['list']); "
        "assert 'watchdog' not in sys.modules, 'watchdog imported'"
    )
    run([sys.executable, "-c", code])


@pytest.mark.parametrize("before", [True, False])
def test_config_option_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], before: bool
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(f'[[project]]\npath = "{tmp_path}"\n')
    args = (
        ["--config", str(other), "list", "--json"]
        if before
        else ["list", "--json", "--config", str(other)]
    )
    assert main(args) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["config"] == str(other) and listed["projects"][0]["path"] == str(tmp_path)


def test_config_rewrites_keep_the_previous_version(tmp_path: Path) -> None:
    from venvsyncd.engine.journal import entries
    from venvsyncd.paths import locations

    config_file().parent.mkdir(parents=True)
    config_file().write_text(COMMENTED)
    app = make_project(tmp_path / "app")
    assert main(["add", str(app)]) == 0
    kept = entries(locations().state_dir / "config")
    assert [e.content.read_text() for e in kept] == [COMMENTED]
    assert kept[0].summary == f"add {app}"


def test_every_command_is_in_the_lazy_table() -> None:
    from venvsyncd.cli.parser import COMMAND_MODULES, build_parser, named_command

    parser = build_parser()
    registered = set()
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        registered |= set(getattr(action, "choices", {}) or {})
    assert registered == set(COMMAND_MODULES)
    assert named_command(["--config", "status", "list"]) == "list"
    assert named_command(["-v", "status", "--json"]) == "status"
    assert named_command(["--bogus"]) is None

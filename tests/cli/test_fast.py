"""The fast paths of `status` and `freeze` (cli/fast.py): the same output and exit code as the
full command line, fewer imports, and the full path whenever the fast one cannot be sure."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.daemonproc import DaemonProcess, start
from testing.venvs import make_venv, pip_freeze, run
from venvsyncd.cli import _full_main, main
from venvsyncd.cli.fast import known_socket
from venvsyncd.cli.fast_records import names_venv_key

# What a plain `status` or `freeze` must not load: other commands' parsers, the config parser,
# platformdirs, urllib.request (http, email, ssl), the engine and the requirements model.
NOT_FOR_FAST = (
    "argparse",
    "platformdirs",
    "tomllib",
    "urllib.request",
    "venvsyncd.cli.parser",
    "venvsyncd.cli.syncing",
    "venvsyncd.cli.projects",
    "venvsyncd.config",
    "venvsyncd.engine.sync",
    "venvsyncd.requirements.file",
    "watchdog",
)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    make_venv(folder / ".venv", "alpha==1.0")
    (folder / "requirements.txt").write_text("alpha==1.0\n")
    return folder


@pytest.fixture
def daemon(daemon_factory: list[DaemonProcess], app: Path, tmp_path: Path) -> Iterator[None]:
    started = start(daemon_factory, app, tmp=tmp_path)
    started.idle()
    yield


def imported_by(argv: list[str], cwd: Path) -> list[str]:
    """The modules of NOT_FOR_FAST that `main(argv)` loads, in a fresh interpreter."""
    code = (
        "import sys; from venvsyncd.cli import main; rc = main(sys.argv[1:]); "
        f"print('\\n'.join(m for m in {NOT_FOR_FAST!r} if m in sys.modules), file=sys.stderr); "
        "raise SystemExit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True, text=True, check=True
    )
    return proc.stderr.split()


@pytest.mark.usefixtures("daemon")
def test_status_answers_like_the_full_path_and_imports_little(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["status"], ["status", "--json"], ["status", str(app)]):
        fast = main(argv)
        fast_out = capsys.readouterr().out
        full = _full_main(argv)
        assert (fast, fast_out) == (full, capsys.readouterr().out)
    assert fast_out.startswith(str(app)) and " in-sync " in fast_out
    assert imported_by(["status"], app) == []
    assert imported_by(["status", "--json", str(app)], app) == []


def test_status_without_a_daemon_says_so_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 3
    assert "the venvsyncd daemon is not running" in capsys.readouterr().err


def test_freeze_is_pip_freeze_and_imports_little(app: Path) -> None:
    from venvsyncd.env.venvs import load_venv

    printed = run([sys.executable, "-m", "venvsyncd", "freeze"], cwd=app).stdout
    assert printed == pip_freeze(load_venv(app / ".venv")) == "alpha==1.0\n"
    assert imported_by(["freeze"], app) == []
    assert imported_by(["freeze", str(app)], app.parent) == []


def test_freeze_follows_a_venv_the_config_names(tmp_path: Path, app: Path) -> None:
    make_venv(app / "custom", "delta")
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[[project]]\npath = "{app}"\nvenv = "custom"\n')
    printed = run([sys.executable, "-m", "venvsyncd", "freeze", str(app)]).stdout
    assert printed == "delta==1.0\n"  # not .venv's alpha: the config was read
    assert "venvsyncd.config" in imported_by(["freeze", str(app)], tmp_path)


def test_freeze_of_a_folder_without_venv_fails_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["freeze", str(tmp_path)]) == 1
    assert "no virtual environment" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (b'[[project]]\npath = "/x"\nvenv = ".v"\n', True),
        (b'[[project]]\npath = "/tmp/venvsyncd/venv-tools"\n', False),
        (b"[defaults]\ncreate_venv = false\n", False),
        (b'"venv" = "x"', True),
        (b"'venv'= 'x'", True),
        (b"project.venv = 1", True),
        (b'project = [{path = "/a", venv = "b"}]', True),
        (b"venvs = 1", False),
        (b'path = "\\u0076env"', True),  # an escape might spell the key: read the config
    ],
)
def test_which_configs_may_name_a_venv(text: bytes, names: bool) -> None:
    assert names_venv_key(text) is names


def test_socket_only_from_a_private_runtime_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    assert known_socket() == str(runtime / "venvsyncd" / "venvsyncd.sock")
    runtime.chmod(0o755)
    try:
        assert known_socket() is None  # platformdirs would not use it either
    finally:
        runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative/run")
    assert known_socket() is None

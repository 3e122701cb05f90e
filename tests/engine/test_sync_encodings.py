"""Acceptance: a PowerShell 5 `pip freeze > requirements.txt` file (UTF-16 LE, BOM, CRLF) kept
in sync with a real venv, offline, and written back in its own encoding byte for byte."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import pytest

from testing.venvs import make_venv, pip, pip_freeze
from venvsyncd.cli import main
from venvsyncd.engine.observe import read_file
from venvsyncd.engine.outcome import digests
from venvsyncd.env.venvs import load_venv

HEADER = "# pip freeze > requirements.txt (Windows PowerShell 5)\r\n"


def utf16(text: str) -> bytes:
    """What PowerShell 5's `>` writes: a UTF-16 LE BOM, then the text."""
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def synced(project: Path, *args: str) -> int:
    return main(["sync", str(project), *args])


@pytest.fixture
def powershell_project(project: Path, config: Path) -> Path:
    """alpha installed, the file in UTF-16 LE with a comment, and a first sync made."""
    make_venv(project / ".venv", "alpha==1.0")
    req = project / "requirements.txt"
    req.write_bytes(utf16(HEADER + "alpha==1.0\r\n"))
    assert synced(project) == 0
    assert req.read_bytes() == utf16(HEADER + "alpha==1.0\r\n")
    return project


def test_pip_install_writes_the_new_line_in_utf16(powershell_project: Path) -> None:
    req = powershell_project / "requirements.txt"
    venv = powershell_project / ".venv"
    pip(load_venv(venv), "install", "beta")
    assert synced(powershell_project) == 0
    assert req.read_bytes() == utf16(HEADER + "alpha==1.0\r\nbeta==1.0\r\n")
    pip(load_venv(venv), "install", "-U", "alpha==2.0")
    assert synced(powershell_project) == 0
    assert req.read_bytes() == utf16(HEADER + "alpha==2.0\r\nbeta==1.0\r\n")
    assert synced(powershell_project, "--check") == 0


def test_a_utf16_edit_installs_the_added_line(powershell_project: Path) -> None:
    req = powershell_project / "requirements.txt"
    edited = utf16(HEADER + "alpha==1.0\r\ndelta==1.0\r\n")
    req.write_bytes(edited)
    assert synced(powershell_project) == 0
    assert "delta==1.0" in pip_freeze(load_venv(powershell_project / ".venv"))
    assert req.read_bytes() == edited  # the file is not rewritten
    assert synced(powershell_project, "--check") == 0


def test_the_file_side_keeps_bytes_and_text(powershell_project: Path) -> None:
    req = powershell_project / "requirements.txt"
    data = req.read_bytes()
    file = read_file(req)
    assert file is not None
    key = str(req)
    assert file.raw == {key: data}
    assert file.data == data and file.bytes_of(req) == data
    assert file.texts == {key: "\ufeff" + HEADER + "alpha==1.0\r\n"}
    assert file.bytes_for(key, file.texts[key]) == data  # a snapshot's text, as the file was
    assert digests(file) == {key: hashlib.sha256(data).hexdigest()}
    assert not file.blank
    req.write_bytes(utf16("\r\n  \r\n"))
    emptied = read_file(req)
    assert emptied is not None and emptied.blank


def test_utf16_without_a_bom_is_refused_by_name(
    powershell_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    req = powershell_project / "requirements.txt"
    unmarked = (HEADER + "alpha==1.0\r\nbeta==1.0\r\n").encode("utf-16-le")
    req.write_bytes(unmarked)
    capsys.readouterr()
    assert synced(powershell_project) == 1
    assert "looks like UTF-16 LE without a BOM" in capsys.readouterr().err
    assert req.read_bytes() == unmarked
    assert "beta" not in pip_freeze(load_venv(powershell_project / ".venv"))

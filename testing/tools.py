"""Stand-ins for system tools (systemctl, launchctl, schtasks, loginctl): scripts put first on
PATH that record how they were called and answer as told."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

Tool = Callable[..., Path]


def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tool:
    """`fake_tool(name, replies={"is-active": "active"}, fail=None)`: a script first on PATH
    that appends its argv to the returned log file, prints the reply for the first word of
    `replies` found in its argv, and exits 0 (or prints `fail` to stderr and exits 1)."""
    folder = tmp_path / "fakebin"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")

    def make(name: str, replies: dict[str, str] | None = None, fail: str | None = None) -> Path:
        log = tmp_path / f"{name}.argv"
        log.touch()
        replied = (replies or {}).items()
        cases = "".join(f'  *" {word} "*) echo {shlex.quote(r)} ;;\n' for word, r in replied)
        end = f'echo "{fail}" >&2\nexit 1\n' if fail else "exit 0\n"
        script = folder / name
        record = f'printf "%s\\n" "$*" >> "{log}"\n'
        script.write_text(f'#!/bin/sh\n{record}case " $* " in\n{cases}  *) ;;\nesac\n{end}')
        script.chmod(0o755)
        return log

    return make


def recorded(log: Path) -> list[str]:
    lines = log.read_text().splitlines()
    log.write_text("")
    return lines

"""Start a program in the background, detached from the terminal that started it.

POSIX: a new session, standard input from /dev/null, output to a file. Windows: a detached
process in its own process group (no console window, Ctrl+C in the terminal does not reach
it). The caller waits for the program to answer (or to exit) by its own means.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def spawn_detached(argv: Sequence[str], output: Path) -> subprocess.Popen[bytes]:
    """Run `argv` in the background; its stdout and stderr go to `output` (appended)."""
    with open(output, "ab") as sink:
        if sys.platform == "win32":  # pragma: no cover - exercised under wine
            flags = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
            return subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                creationflags=flags,
            )
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

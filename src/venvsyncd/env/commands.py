"""The one place venvsyncd runs subprocesses (installers, venv creation, git)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from venvsyncd.errors import ProjectError

# Variables that would make a venv's interpreter or its pip behave unlike the user's own
# `<venv>/bin/python -m pip` in a fresh shell.
_DROPPED = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "VIRTUAL_ENV",
    "__PYVENV_LAUNCHER__",
    "PIP_REQUIRE_VIRTUALENV",
    "PIP_USER",
    "PIP_TARGET",
    "PIP_PREFIX",
    "PIP_ROOT",
)
_FORCED = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
    "PYTHONIOENCODING": "utf-8",
    "NO_COLOR": "1",
    "UV_NO_PROGRESS": "1",
}


class CommandError(ProjectError):
    """A subprocess failed; the message shows the command, its exit code and its output."""

    def __init__(self, argv: Sequence[str], returncode: int, output: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        tail = _error_lines(output)
        super().__init__(
            f"`{' '.join(argv)}` {_ended(returncode)}" + (f":\n{tail}" if tail else ""),
        )


def _ended(returncode: int) -> str:
    """`exited 1`, or for a process a signal ended: `was killed by SIGXFSZ (File size ...)`."""
    if returncode >= 0:
        return f"exited {returncode}"
    try:
        number = signal.Signals(-returncode)
    except ValueError:
        return f"was killed by signal {-returncode}"
    return f"was killed by {number.name} ({signal.strsignal(number)})"


_ERROR_STARTS = ("error", "×", "╰", "because", "cause:")  # noqa: RUF001 (uv marks errors so)


def _error_lines(output: str, keep: int = 15) -> str:
    """The installer's own error lines (pip ERROR lines, uv's marked and cause lines, and
    pip's warnings about the network, which say why an index gave nothing), else the last."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    errors = [ln for ln in lines if _is_error_line(ln.lstrip().lower())]
    return "\n".join((errors or lines)[-keep:])


def _is_error_line(line: str) -> bool:
    return line.startswith(_ERROR_STARTS) or (line.startswith("warning") and "connection" in line)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update(_FORCED)
    env.update(extra or {})
    return env


def run_command(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> str:
    """Run `argv` with a clean environment; its combined output, or `CommandError`."""
    args = [os.fspath(a) for a in argv]
    try:
        proc = subprocess.run(
            args,
            cwd=cwd,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CommandError(args, 127, f"error: {args[0]}: not found") from exc
    except subprocess.TimeoutExpired as exc:
        killed = -signal.SIGKILL  # what subprocess.run does to it on a timeout
        raise CommandError(args, killed, f"error: timed out after {timeout} s") from exc
    if proc.returncode != 0:
        raise CommandError(args, proc.returncode, proc.stdout)
    return proc.stdout

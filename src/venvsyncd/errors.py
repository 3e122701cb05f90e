"""The one error hierarchy, and the exit codes every command uses (`Exit`).

`cli.main` turns an error into its class's exit code; commands return an `Exit`.
"""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    """The exit codes (README, "Exit codes")."""

    OK = 0  # success, everything in sync
    FAILED = 1  # out of sync, conflict or error in a project, or a failed operation
    USAGE = 2  # bad usage or bad config
    NO_DAEMON = 3  # the command needs the daemon and none runs
    TIMEOUT = 4  # `--wait` timed out
    INTERRUPTED = 130


class VenvsyncdError(Exception):
    """A failure the user can act on: one sentence of what and where, plus a hint."""

    exit_code: int = Exit.FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"venvsyncd: error: {self.message}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class UsageError(VenvsyncdError):
    """The command line itself is wrong."""

    exit_code = Exit.USAGE


class ConfigError(VenvsyncdError):
    """The config file is unreadable, not TOML, or holds a bad key or value."""

    exit_code = Exit.USAGE


class ProjectError(VenvsyncdError):
    """A project cannot be resolved or acted on (no venv, unreadable file, ...)."""

    exit_code = Exit.FAILED


class DaemonNotRunning(VenvsyncdError):
    """A command needs the daemon and none answers."""

    exit_code = Exit.NO_DAEMON

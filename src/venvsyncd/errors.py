"""The one error hierarchy; `cli.main` maps each class to its exit code."""

from __future__ import annotations


class VenvsyncdError(Exception):
    """A failure the user can act on: one sentence of what and where, plus a hint."""

    exit_code = 1

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

    exit_code = 2


class ConfigError(VenvsyncdError):
    """The config file is unreadable, not TOML, or holds a bad key or value."""

    exit_code = 2


class ProjectError(VenvsyncdError):
    """A project cannot be resolved or acted on (no venv, unreadable file, ...)."""

    exit_code = 1


class DaemonNotRunning(VenvsyncdError):
    """A command needs the daemon and none answers."""

    exit_code = 3

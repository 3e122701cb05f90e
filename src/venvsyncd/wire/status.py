"""The daemon's answer to `status`: immutable values, rendered by the client as text or JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from venvsyncd.wire.states import (
    BUSY_STATES,
    CONFLICT,
    DRIFT,
    ERROR,
    HELD,
    IN_SYNC,
    NEEDS_USER,
    PAUSED,
    PENDING,
    STATES,
    SYNCING,
)

__all__ = [
    "BUSY_STATES",
    "CONFLICT",
    "DRIFT",
    "ERROR",
    "HELD",
    "IN_SYNC",
    "NEEDS_USER",
    "PAUSED",
    "PENDING",
    "STATES",
    "SYNCING",
    "DaemonInfo",
    "ProjectStatus",
]


@dataclass(frozen=True)
class ProjectStatus:
    path: str
    venv: str
    requirements: str
    python: str | None
    mode: str
    style: str
    state: str
    packages: int
    last_sync: str | None  # UTC ISO 8601
    last_change: str | None
    message: str | None
    broken: tuple[str, ...] = ()  # what `pip check` would report for the venv
    orphans: tuple[str, ...] = ()  # installed, yet no file names them and nothing needs them

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["broken"] = list(self.broken)
        document["orphans"] = list(self.orphans)
        return document


@dataclass(frozen=True)
class DaemonInfo:
    pid: int
    version: str
    started: str  # UTC ISO 8601
    config: str
    socket: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

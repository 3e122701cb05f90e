"""The daemon's answer to `status`: immutable values, rendered by the client as text or JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Project states, as the contract names them.
IN_SYNC = "in-sync"
PENDING = "pending"  # a change seen, waiting for the installer to finish / the settle time
SYNCING = "syncing"
DRIFT = "drift"
CONFLICT = "conflict"
ERROR = "error"
PAUSED = "paused"
STATES = (IN_SYNC, PENDING, SYNCING, DRIFT, CONFLICT, ERROR, PAUSED)
BUSY_STATES = (PENDING, SYNCING)
NEEDS_USER = (DRIFT, CONFLICT, ERROR)


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DaemonInfo:
    pid: int
    version: str
    started: str  # UTC ISO 8601
    config: str
    socket: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

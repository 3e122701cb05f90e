"""What a sync is asked to do and what it did: plain values shared by the engine and its callers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from venvsyncd.engine.journal import DEFAULT_KEEP
from venvsyncd.engine.observe import FileSide
from venvsyncd.engine.plan import Plan


@dataclass(frozen=True)
class Outcome:
    # "in-sync", "drift", "conflict", "held", "error", or "pending" (the venv got busy
    # between rounds); with dry_run: what would be ("act" when something would be done)
    state: str
    plan: Plan
    summary: str = ""  # what changed, for logs and `last_change`
    message: str | None = None
    packages: int = 0
    warnings: tuple[str, ...] = ()
    retry: bool = False  # an error of the system (disk full, permissions): try again later
    broken: tuple[str, ...] = ()  # what `pip check` would report for the venv
    orphans: tuple[str, ...] = ()  # installed, yet nothing asks for them (engine/health.py)
    new_orphans: tuple[str, ...] = ()  # those of `orphans` the last sync did not list
    # What the last round read (and wrote): each file's sha256, and the venv's `venv_mark`.
    digests: Mapping[str, str] = field(default_factory=dict)
    venv_mark: Hashable = None


@dataclass(frozen=True)
class SyncRequest:
    force: str | None = None  # "env" | "file"
    dry_run: bool = False  # decide and report, change nothing
    installer: str = "auto"
    allow: bool = False  # apply what a hold stops, and approve it (`venvsyncd allow`)
    unattended: bool = False  # the daemon's: install from wheels only (engine/trust.py)
    history: int = DEFAULT_KEEP  # versions of the file the journal keeps
    # Between rounds: why the venv must not be read now (a user's installer runs), or None.
    busy: Callable[[], str | None] | None = None
    # The config file the project was resolved with: an in-sync end leaves a record of it for
    # a whole-process `sync --check` (system/insync.py); None leaves none.
    config_file: Path | None = None


class Step(NamedTuple):
    """What one round did: a final outcome, or None when another round must follow."""

    outcome: Outcome | None
    summary: str = ""
    warnings: tuple[str, ...] = ()
    venv_mark: Hashable = None  # the venv's mark taken just before the round read it


def digests(file: FileSide | None) -> dict[str, str]:
    """sha256 of each file's bytes (the top file and its includes), by path."""
    if file is None:
        return {}
    return {p: hashlib.sha256(data).hexdigest() for p, data in file.raw.items()}

"""The config file, watched like a project's file: an edit is reloaded once it settles.

Each distinct content is tried once: a bad config is logged when it is saved, not again at
every rescan; `reload` and SIGHUP always try.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class ConfigWatch:
    def __init__(self, file: Path) -> None:
        self.file = file
        self._event_at: float | None = None  # monotonic time of the last event not acted on
        self._tried = _digest(file)  # the content last loaded or tried

    def folders(self) -> set[Path]:
        """What to watch: the config file's folder, when there is one."""
        return {self.file.parent} if self.file.parent.is_dir() else set()

    def saw(self, at: float) -> None:
        self._event_at = at if self._event_at is None else max(self._event_at, at)

    def due(self, settle: float) -> float:
        """When the last event has settled (monotonic time; infinity when there is none)."""
        return math.inf if self._event_at is None else self._event_at + settle

    def changed(self) -> bool:
        """Take the settled event: does the file hold content not tried yet?"""
        self._event_at = None
        now = _digest(self.file)
        if now == self._tried:
            return False
        self._tried = now
        return True

    def loaded(self) -> None:
        """The config was (re)loaded from the file as it is now."""
        self._event_at = None
        self._tried = _digest(self.file)

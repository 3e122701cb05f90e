"""What `status` and `wait` read: the projects' statuses, published by the coordinator.

Only the coordinator thread calls `put` and `flush`; IPC threads read `published` (a tuple,
replaced whole, never changed) and `busy` (a frozenset of the paths pending or syncing), or
wait on `changed`. A publish costs the projects that changed, not the fleet: each project's
`ProjectStatus` is kept, and only the changed ones are made again.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

from venvsyncd.wire.status import BUSY_STATES, ProjectStatus


class Board:
    def __init__(self) -> None:
        self._statuses: dict[str, ProjectStatus] = {}
        self._busy: set[str] = set()
        self.counts: Counter[str] = Counter()  # projects by state
        self.published: tuple[ProjectStatus, ...] = ()
        self.busy: frozenset[str] = frozenset()
        self.closed = False  # the daemon stops: waiters are let go
        self.changed = threading.Condition()
        self.on_flush: Callable[[Board], None] | None = None

    def status_of(self, path: str) -> ProjectStatus | None:
        return self._statuses.get(path)

    def put(self, status: ProjectStatus) -> None:
        """Take a project's new status (coordinator; seen by readers at the next `flush`)."""
        old = self._statuses.get(status.path)
        if old is not None:
            self.counts[old.state] -= 1
        self.counts[status.state] += 1
        self._statuses[status.path] = status
        if status.state in BUSY_STATES:
            self._busy.add(status.path)
        else:
            self._busy.discard(status.path)

    def drop(self, paths: Iterable[str]) -> None:
        for path in paths:
            old = self._statuses.pop(path, None)
            if old is not None:
                self.counts[old.state] -= 1
            self._busy.discard(path)

    def flush(self) -> None:
        """Make what was put visible and wake the waiters."""
        self.published = tuple(self._statuses.values())
        self.busy = frozenset(self._busy)
        with self.changed:
            self.changed.notify_all()
        if self.on_flush is not None:
            self.on_flush(self)

    def close(self) -> None:
        self.closed = True
        with self.changed:
            self.changed.notify_all()

    def wait_idle(self, chosen: Iterable[str], timeout: float) -> bool:
        """Wait until none of `chosen` is pending or syncing (False: timed out, or stopping)."""
        wanted = frozenset(chosen)
        deadline = time.monotonic() + timeout

        def idle() -> bool:
            return self.closed or not (wanted & self.busy)

        with self.changed:
            self.changed.wait_for(idle, max(0.0, deadline - time.monotonic()))
        return not (wanted & self.busy) and not self.closed

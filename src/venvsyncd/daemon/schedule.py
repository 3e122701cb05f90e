"""The coordinator's two indexes, so that an event or a turn costs what changed, not the fleet.

`Routes`: which projects a path may concern, by the folders their paths live in (an event
at `/p/.venv/lib/python3.12/site-packages/six.py` is looked up under its folder), so an
event is checked against those few projects only (`Tracked.cares_about` decides).
`DueQueue`: when each dirty project is due, in a heap; an entry is only a hint (the
coordinator works out again when the project is due when it reaches the top).
"""
# ruff: noqa: PTH120  (event paths are strings; os.path on them is the cheap way)

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Iterable


class Routes:
    def __init__(self) -> None:
        self._keys: dict[str, set[str]] = {}  # folder -> the projects with a path in it
        self._folders: dict[str, frozenset[str]] = {}  # project -> its folders

    def put(self, key: str, folders: Iterable[str]) -> None:
        self.drop(key)
        self._folders[key] = frozenset(folders)
        for folder in self._folders[key]:
            self._keys.setdefault(folder, set()).add(key)

    def drop(self, key: str) -> None:
        for folder in self._folders.pop(key, ()):
            keys = self._keys.get(folder)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys[folder]

    def candidates(self, path: str) -> set[str]:
        """The projects that may care about `path`: it is in, or is, one of their folders."""
        return self._keys.get(os.path.dirname(path), set()) | self._keys.get(path, set())


class DueQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._earliest: dict[str, float] = {}  # the earliest entry each project has

    def __len__(self) -> int:
        return len(self._earliest)

    def push(self, key: str, at: float) -> None:
        """Have the coordinator look at `key` at `at` (an earlier entry is kept)."""
        if self._earliest.get(key, math.inf) <= at:
            return
        self._earliest[key] = at
        heapq.heappush(self._heap, (at, key))

    def first(self) -> float:
        """When the earliest entry is due (infinity when there is none)."""
        self._skip_stale()
        return self._heap[0][0] if self._heap else math.inf

    def pop(self) -> str:
        self._skip_stale()
        _, key = heapq.heappop(self._heap)
        del self._earliest[key]
        return key

    def _skip_stale(self) -> None:
        while self._heap and self._earliest.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)

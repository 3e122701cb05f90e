"""The journal: every version of a requirements file that venvsyncd replaced.

Each entry is two files in `<project state>/journal/`: `NNNNNN.bytes` (the replaced content,
byte for byte) and `NNNNNN.json` (when, which file, what changed). The content is written
first, the metadata last, both atomically: an entry without readable metadata is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from venvsyncd.fsutil import atomic_write
from venvsyncd.state import utc_now


class JournalEntry(NamedTuple):
    number: int
    time: str
    file: Path
    summary: str
    content: Path  # where the replaced bytes are kept


def _folder(project_state: Path) -> Path:
    return project_state / "journal"


def entries(project_state: Path) -> list[JournalEntry]:
    """All readable entries, oldest first."""
    folder = _folder(project_state)
    if not folder.is_dir():
        return []
    found = []
    for meta in sorted(folder.glob("[0-9]*.json")):
        try:
            raw = json.loads(meta.read_text(encoding="utf-8"))
            entry = JournalEntry(
                number=int(meta.stem),
                time=str(raw["time"]),
                file=Path(raw["file"]),
                summary=str(raw["summary"]),
                content=meta.with_suffix(".bytes"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if entry.content.is_file():
            found.append(entry)
    return found


def record(project_state: Path, file: Path, replaced: bytes, summary: str) -> JournalEntry:
    """Keep `replaced` (the file's content before a rewrite) as the newest entry."""
    folder = _folder(project_state)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    existing = [int(p.stem) for p in folder.glob("[0-9]*.*") if p.stem.isdigit()]
    number = max(existing, default=0) + 1
    stem = folder / f"{number:06d}"
    entry = JournalEntry(number, utc_now(), file, summary, stem.with_suffix(".bytes"))
    atomic_write(entry.content, replaced)
    meta = {"time": entry.time, "file": str(file), "summary": summary}
    atomic_write(stem.with_suffix(".json"), (json.dumps(meta) + "\n").encode("utf-8"))
    return entry

"""The journal: every version of a requirements file that venvsyncd replaced.

Each entry is two files in `<project state>/journal/`: `NNNNNN.bytes` (the replaced content,
byte for byte) and `NNNNNN.json` (when, which file, what changed). The content is written
first, the metadata last, both atomically. The content is what matters: an entry whose
metadata is missing or damaged (a writer killed between the two, a damaged disk) is still
listed, dated by its content file, and `record` writes its metadata anew and logs it.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from venvsyncd.fsutil import atomic_write
from venvsyncd.state import utc_now

log = logging.getLogger("venvsyncd")
DAMAGED = "(its record was damaged and rebuilt; the content is intact)"


class JournalEntry(NamedTuple):
    number: int
    time: str
    file: Path
    summary: str
    content: Path  # where the replaced bytes are kept
    damage: str | None = None  # why the metadata could not be read


def _folder(project_state: Path) -> Path:
    return project_state / "journal"


def entries(project_state: Path) -> list[JournalEntry]:
    """Every entry whose content is there, oldest first."""
    folder = _folder(project_state)
    if not folder.is_dir():
        return []
    found = []
    for content in sorted(folder.glob("[0-9]*.bytes")):
        if content.stem.isdigit():
            with contextlib.suppress(FileNotFoundError):
                found.append(_entry(content))
    return found


def _entry(content: Path) -> JournalEntry:
    number = int(content.stem)
    meta = content.with_suffix(".json")
    try:
        raw = json.loads(meta.read_text(encoding="utf-8"))
        return JournalEntry(
            number, str(raw["time"]), Path(raw["file"]), str(raw["summary"]), content
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        damage = f"{meta.name}: {exc.strerror if isinstance(exc, OSError) else exc}"
    mtime = datetime.fromtimestamp(content.stat().st_mtime, UTC)
    time = mtime.strftime("%Y-%m-%dT%H:%M:%SZ")
    return JournalEntry(number, time, Path(), DAMAGED, content, damage)


def record(project_state: Path, file: Path, replaced: bytes, summary: str) -> JournalEntry:
    """Keep `replaced` (the file's content before a rewrite) as the newest entry."""
    folder = _folder(project_state)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _repair(folder, file)
    existing = [int(p.stem) for p in folder.glob("[0-9]*.*") if p.stem.isdigit()]
    number = max(existing, default=0) + 1
    stem = folder / f"{number:06d}"
    entry = JournalEntry(number, utc_now(), file, summary, stem.with_suffix(".bytes"))
    atomic_write(entry.content, replaced)
    _write_meta(entry)
    return entry


def _write_meta(entry: JournalEntry) -> None:
    meta = {"time": entry.time, "file": str(entry.file), "summary": entry.summary}
    data = (json.dumps(meta) + "\n").encode("utf-8")
    atomic_write(entry.content.with_suffix(".json"), data)


def _repair(folder: Path, file: Path) -> None:
    """Metadata anew for entries that lost theirs; away with what killed writers left."""
    for temp in folder.glob(".*.tmp"):
        temp.unlink(missing_ok=True)
    for meta in folder.glob("[0-9]*.json"):
        if not meta.with_suffix(".bytes").exists():
            log.warning("journal %s: no content for %s; its record is removed", folder, meta.name)
            meta.unlink()
    for entry in entries(folder.parent):
        if entry.damage is not None:
            log.warning("journal %s: %s; rebuilt from its content", folder, entry.damage)
            _write_meta(entry._replace(file=file))

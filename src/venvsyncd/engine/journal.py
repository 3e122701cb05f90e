"""The journal: the newest versions of a requirements file that venvsyncd replaced.

Each entry is two files in `<project state>/journal/`: `NNNNNN.bytes` (the replaced content,
byte for byte) and `NNNNNN.json` (when, which file, what changed). The content is written
first, the metadata last, both atomically, 0600 in a folder 0700: a journal that is not the
user's alone (another user's, a symlink) is refused, never listed nor written. The content is
what matters: an entry whose metadata is missing or damaged (a writer killed between the two,
a damaged disk) is still listed, dated by its content file, and `record` writes its metadata
anew and logs it.

A write keeps the newest `keep` entries: older ones go, content first, so a kill half-way
leaves metadata without content (not listed; removed by the next write), never a listed
entry without content. Numbers keep growing; none is used twice.

A write costs the same however many entries were ever written: one listing of the folder
(at most `keep` entries, plus what a kill left) and two stats per entry. It reads no metadata
it has read before: metadata known whole is dated just before its content (its mtime), and
any later write of it (a damage) dates it after, so only metadata dated after its content is
read (an old install's, a new entry's if a kill came before it was dated, a damaged one).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from venvsyncd.engine.snapshot import private_folder, utc_now
from venvsyncd.system.files import atomic_write
from venvsyncd.system.private import PRIVATE_FILE

log = logging.getLogger("venvsyncd")
DAMAGED = "(its record was damaged and rebuilt; the content is intact)"
DEFAULT_KEEP = 100  # entries kept per journal; `[daemon] history` in the config


class JournalEntry(NamedTuple):
    number: int
    time: str
    file: Path
    summary: str
    content: Path  # where the replaced bytes are kept
    damage: str | None = None  # why the metadata could not be read


class _Listing(NamedTuple):
    contents: list[Path]  # the `.bytes` files, oldest first
    records: set[str]  # the stems of the `.json` files
    temps: list[Path]  # what killed writers left
    files: dict[str, os.DirEntry[str]]  # the `.bytes` and `.json` files, by name (stats cached)


def _folder(project_state: Path) -> Path:
    return project_state / "journal"


def entries(project_state: Path) -> list[JournalEntry]:
    """Every entry whose content is there, oldest first (`ProjectError`: not the user's)."""
    folder = _folder(project_state)
    if not private_folder(folder, project_state, create=False):
        return []
    found = []
    for content in _scan(folder).contents:
        with contextlib.suppress(FileNotFoundError):
            found.append(_entry(content))
    return found


def _scan(folder: Path) -> _Listing:
    """One listing of the journal folder, sorted out."""
    contents: list[Path] = []
    records: set[str] = set()
    temps: list[Path] = []
    files: dict[str, os.DirEntry[str]] = {}
    with os.scandir(folder) as listing:
        for item in listing:
            stem, _, suffix = item.name.partition(".")
            if not stem and item.name.endswith(".tmp"):
                temps.append(Path(item.path))
            elif stem.isascii() and stem.isdigit() and suffix in ("bytes", "json"):
                files[item.name] = item
                if suffix == "bytes":
                    contents.append(Path(item.path))
                else:
                    records.add(stem)
    contents.sort(key=lambda content: int(content.stem))
    return _Listing(contents, records, temps, files)


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


def record(
    project_state: Path, file: Path, replaced: bytes, summary: str, keep: int = DEFAULT_KEEP
) -> JournalEntry:
    """Keep `replaced` (the file's content before a rewrite) as the newest entry.

    Then only the newest `keep` entries (`keep` >= 1) stay. Whatever killed writers left is
    cleaned up on the way: temp files, metadata without content, damaged metadata (rebuilt).
    """
    if keep < 1:
        raise ValueError(f"a journal keeps at least 1 entry, not {keep}")
    folder = _folder(project_state)
    private_folder(folder, project_state)
    listing = _scan(folder)
    _sweep(folder, listing)
    used = [int(c.stem) for c in listing.contents] + [int(s) for s in listing.records]
    number = max(used, default=0) + 1
    entry = JournalEntry(number, utc_now(), file, summary, folder / f"{number:06d}.bytes")
    atomic_write(entry.content, replaced, mode=PRIVATE_FILE)
    _write_meta(entry)
    kept = _prune(folder, listing.contents, keep - 1)
    _check_records(folder, kept, listing, file)
    return entry


def withdraw(entry: JournalEntry) -> None:
    """Take back `entry`, recorded for a write that did not happen: content first, as pruning
    does. Its number may be given again (it was never a version the file lost)."""
    entry.content.unlink(missing_ok=True)
    entry.content.with_suffix(".json").unlink(missing_ok=True)


def _write_meta(entry: JournalEntry) -> None:
    meta = {"time": entry.time, "file": str(entry.file), "summary": entry.summary}
    data = (json.dumps(meta) + "\n").encode("utf-8")
    atomic_write(entry.content.with_suffix(".json"), data, mode=PRIVATE_FILE)
    _mark_whole(entry.content)


def _mark_whole(content: Path) -> None:
    """Date the metadata of `content` just before it: known whole, no need to read it again."""
    with contextlib.suppress(OSError):  # unmarked, it is only read again at the next write
        before = content.stat().st_mtime_ns - 1
        os.utime(content.with_suffix(".json"), ns=(before, before))


def _marked_whole(listing: _Listing, content: Path) -> bool:
    """Is the metadata of `content` dated before it: known whole, not written since?"""
    meta, data = listing.files.get(f"{content.stem}.json"), listing.files.get(content.name)
    if meta is None or data is None:
        return False
    try:
        return meta.stat().st_mtime_ns < data.stat().st_mtime_ns
    except OSError:
        return False


def _sweep(folder: Path, listing: _Listing) -> None:
    """Away with killed writers' temp files and with metadata whose content is gone."""
    for temp in listing.temps:
        temp.unlink(missing_ok=True)
    oldest = int(listing.contents[0].stem) if listing.contents else None
    for stem in sorted(listing.records - {content.stem for content in listing.contents}):
        meta = folder / f"{stem}.json"
        if oldest is not None and int(stem) < oldest:  # a removal of an old entry, cut short
            log.debug("journal %s: %s of a removed entry is removed", folder, meta.name)
        else:
            log.warning("journal %s: no content for %s; its record is removed", folder, meta.name)
        meta.unlink(missing_ok=True)


def _prune(folder: Path, contents: list[Path], room: int) -> list[Path]:
    """Remove all but the newest `room` of `contents` (content first); return those kept."""
    cut = max(0, len(contents) - room)
    for content in contents[:cut]:
        content.unlink(missing_ok=True)
        content.with_suffix(".json").unlink(missing_ok=True)
    if cut:  # an old install's first write removes many: say so
        say = log.info if cut > 1 else log.debug
        say("journal %s: removed %d old entries, kept the newest %d", folder, cut, room + 1)
    return contents[cut:]


def _check_records(folder: Path, kept: list[Path], listing: _Listing, file: Path) -> None:
    """Read the metadata not known whole; rebuild what is damaged or lost (for `file`)."""
    for content in kept:
        if _marked_whole(listing, content):
            continue
        try:
            entry = _entry(content)
        except FileNotFoundError:  # its content is gone too
            continue
        if entry.damage is None:
            _mark_whole(content)
        else:
            log.warning("journal %s: %s; rebuilt from its content", folder, entry.damage)
            _write_meta(entry._replace(file=file))

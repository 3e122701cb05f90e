"""How venvsyncd rewrites a user's requirements file, and only so.

Under the project lock, one writer at a time; the old content goes to the journal first, then
the file is replaced by a compare-and-swap (`swap.py`): only if it still holds the bytes the
sync read. A save that landed in between stays in the file (the journal entry made for the
write is withdrawn), and what a racing writer put there that could not be put back goes to
the journal. A file the user made read-only is not replaced; the temp files a killed writer
left behind are swept away by the next one.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from venvsyncd import journal
from venvsyncd.errors import ProjectError
from venvsyncd.fsutil import remove_stale_temps
from venvsyncd.swap import SwapResult, compare_and_swap


@contextlib.contextmanager
def project_lock(folder: Path) -> Iterator[None]:
    """One venvsyncd at a time per project (a CLI `sync` and the daemon's worker)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name != "posix":
        yield
        return
    import fcntl

    with open(folder / "lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def refuse_read_only(path: Path) -> None:
    """A `ProjectError` when the user made `path` read-only (no write bit, or not ours to
    write): its content is theirs to change, as an editor asks before writing over it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o222 and os.access(path, os.W_OK):
        return
    raise ProjectError(
        f"{path} is read-only (mode {mode:04o}), so venvsyncd did not rewrite it",
        hint=f"make it writable (chmod u+w {path}) and venvsyncd catches up, "
        'or set mode = "install" for this project so it only installs',
    )


RACED = "a save that raced with venvsyncd's write; `venvsyncd undo` puts it back"


def write_requirements(
    folder: Path, path: Path, data: bytes, summary: str, expected: bytes | None, keep: int
) -> SwapResult:
    """Keep `expected` (the content read) in the journal, then make the file hold `data` if it
    still holds `expected` (None: if it does not exist). Not written: the result says what
    the file holds instead; nothing the user saved is lost."""
    refuse_read_only(path)
    entry = None if expected is None else journal.record(folder, path, expected, summary, keep)
    result = compare_and_swap(path, data, expected)
    if not result.written:
        if entry is not None:
            journal.withdraw(entry)
        for content in result.displaced:
            journal.record(folder, path, content, RACED, keep)
    return result


def sweep(folder: Path, requirements: Path) -> None:
    """Remove the temp files of writes that were killed half way (ours only, by name)."""
    target = requirements.resolve() if requirements.is_symlink() else requirements
    for path in (target, folder / "snapshot.json"):
        remove_stale_temps(path)

"""Everything venvsyncd keeps about one project, and the one way it writes the project's files.

A `ProjectStore` owns the project's folder in the state dir (`<state>/projects/<name>-<hash>/`,
0700 from the state dir down, the user's alone: another user's or a symlink is refused):
the lock that lets one venvsyncd at a time act on the project (a CLI `sync` and the daemon's
worker), the snapshot and the pending snapshot (`snapshot.py`), the journal of replaced
versions (`journal.py`), and the guarded write of the requirements files.

A write is journaled first, then made by a compare-and-swap (`system/swap.py`): only if the
file still holds the bytes the sync read. A save that landed in between stays in the file (the
journal entry made for the write is withdrawn), and what a racing writer put there that could
not be put back goes to the journal. A file the user made read-only is not replaced; the temp
files a killed writer left behind are swept away by the next one.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from venvsyncd.engine import journal
from venvsyncd.engine.snapshot import (
    PENDING,
    SNAPSHOT,
    Snapshot,
    load_snapshot,
    private_folder,
    project_state_dir,
    promote_pending,
    save_snapshot,
    settle_pending,
)
from venvsyncd.errors import ProjectError
from venvsyncd.system.files import atomic_write, remove_stale_temps
from venvsyncd.system.locks import holding
from venvsyncd.system.private import PRIVATE_FILE
from venvsyncd.system.swap import SwapResult, compare_and_swap

ORPHANS_RECORD = "orphans.txt"  # the orphans the last sync listed (engine/health.py)
VENV_RECORD = "venv.txt"  # the venv the project had: a missing one is waited for, not replaced
RACED = "a save that raced with venvsyncd's write; `venvsyncd undo` puts it back"


class ProjectStore:
    def __init__(self, state_dir: Path, project: Path, history: int = journal.DEFAULT_KEEP):
        self.state_dir = state_dir
        self.folder = project_state_dir(state_dir, project)
        self.project = project
        self.history = history  # versions of each file the journal keeps

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the project: one venvsyncd at a time acts on it. Its folder and those above
        it up to the state dir are made the user's alone; a `ProjectError` when one is not."""
        private_folder(self.folder, self.state_dir)
        with holding(self.folder / "lock"):
            yield

    # ---- snapshots -----------------------------------------------------------------------
    def snapshot(self) -> Snapshot | None:
        """The last agreement of file and env; `StateProblem` when it is unusable."""
        if not private_folder(self.folder, self.state_dir, create=False):
            return None
        return load_snapshot(self.folder)

    def save(self, snapshot: Snapshot) -> None:
        save_snapshot(self.folder, self.project, snapshot)

    def save_pending(self, snapshot: Snapshot) -> None:
        """Announce the snapshot a write is about to make true (see `snapshot.py`)."""
        save_snapshot(self.folder, self.project, snapshot, PENDING)

    def promote_pending(self) -> None:
        """The pending snapshot's write happened: it becomes the snapshot."""
        promote_pending(self.folder)

    def drop_pending(self) -> None:
        (self.folder / PENDING).unlink(missing_ok=True)

    def settle_pending(self, texts: dict[str, str] | None, dry: bool) -> Snapshot | None:
        return settle_pending(self.folder, texts, dry)

    # ---- the venv it had -----------------------------------------------------------------
    def remembered_venv(self) -> Path | None:
        """The venv the project was last seen with (it may be gone now)."""
        try:
            text = (self.folder / VENV_RECORD).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return Path(text) if text else None

    def remember_venv(self, root: Path) -> None:
        if self.remembered_venv() != root:
            atomic_write(self.folder / VENV_RECORD, f"{root}\n".encode(), mode=PRIVATE_FILE)

    # ---- the orphans it listed -------------------------------------------------------------
    def known_orphans(self) -> frozenset[str] | None:
        """The orphans the last sync found (`engine/health.py`); None before the first."""
        try:
            text = (self.folder / ORPHANS_RECORD).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return frozenset(text.split())

    def remember_orphans(self, names: frozenset[str]) -> None:
        if self.known_orphans() != names:
            data = "".join(f"{name}\n" for name in sorted(names)).encode()
            atomic_write(self.folder / ORPHANS_RECORD, data, mode=PRIVATE_FILE)

    # ---- the journal ---------------------------------------------------------------------
    def versions(self) -> list[journal.JournalEntry]:
        """The versions kept, oldest first (none read from a folder not the user's alone)."""
        if not private_folder(self.folder, self.state_dir, create=False):
            return []
        return journal.entries(self.folder)

    def keep(self, file: Path, content: bytes, why: str) -> None:
        """Keep `content` of `file` in the journal, unless the newest entry already holds it."""
        newest = self.versions()[-1:]
        if newest and newest[0].content.read_bytes() == content:
            return
        journal.record(self.folder, file, content, why, self.history)

    # ---- writes --------------------------------------------------------------------------
    def write(self, path: Path, data: bytes, summary: str, expected: bytes | None) -> SwapResult:
        """Keep `expected` (the content read) in the journal, then make the file hold `data` if
        it still holds `expected` (None: if it does not exist). Not written: the result says
        what the file holds instead; nothing the user saved is lost."""
        refuse_read_only(path)
        folder, keep = self.folder, self.history
        entry = None if expected is None else journal.record(folder, path, expected, summary, keep)
        result = compare_and_swap(path, data, expected)
        if not result.written:
            if entry is not None:
                journal.withdraw(entry)
            for content in result.displaced:
                journal.record(folder, path, content, RACED, keep)
        return result

    def sweep(self, requirements: Path) -> None:
        """Remove the temp files of writes that were killed half way (ours only, by name)."""
        target = requirements.resolve() if requirements.is_symlink() else requirements
        for path in (target, self.folder / SNAPSHOT):
            remove_stale_temps(path)


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

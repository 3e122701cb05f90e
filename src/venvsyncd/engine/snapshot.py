"""Per-project state on disk: the snapshot of the last agreement between file and env.

Layout: `<state dir>/projects/<folder name>-<hash of its path>/snapshot.json`, folders 0700 and
files 0600, the user's alone (`private_folder`: one that is not is refused). The format is
versioned; a snapshot that is unreadable, corrupt or of an unknown format is reported (as a
`StateProblem` the caller logs) and treated as absent, so it is rebuilt by the next sync.

A rewrite of the requirements file and the snapshot after it are two writes: a kill between
them would leave a snapshot that takes venvsyncd's own write for a user's edit. So the
snapshot the rewrite makes true is written first, as `snapshot.next.json`; if the file holds
what it expected, the write happened and that snapshot is the one (`settle_pending`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from venvsyncd.env.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.requirements.wanted import Wanted
from venvsyncd.system import insync
from venvsyncd.system.files import atomic_write, replace
from venvsyncd.system.private import PRIVATE_FILE, NotPrivate, private_dir, private_dir_exists

SNAPSHOT_FORMAT = 1
SNAPSHOT = "snapshot.json"
PENDING = "snapshot.next.json"


def project_state_dir(state_dir: Path, project: Path) -> Path:
    return state_dir / "projects" / insync.state_folder_name(str(project))


def private_folder(folder: Path, root: Path | None = None, *, create: bool = True) -> bool:
    """Make `folder` and the folders from `root` down to it the user's alone (0700; see
    `system/private.py`), or with `create` False only look: False when one is missing. A
    `ProjectError` names one that is another user's, a symlink or writable by all."""
    try:
        if create:
            private_dir(folder, root)
            return True
        return private_dir_exists(folder, root)
    except NotPrivate as exc:
        raise ProjectError(exc.message, hint=exc.hint) from None


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Snapshot:
    """What file and env looked like when venvsyncd last saw them agree."""

    files: dict[str, str]  # requirements file and its includes: absolute path -> text
    wanted: tuple[Wanted, ...]  # what those files asked for
    installed: tuple[FrozenDist, ...]  # the env, as pip freeze lists it
    time: str
    venv_id: str = ""  # which venv that was (a recreated venv is another one)


class StateProblem(Exception):
    """The snapshot could not be used; it will be rebuilt."""


def _dist_to_json(dist: FrozenDist) -> dict[str, Any]:
    return {**dist._asdict(), "lines": list(dist.lines)}


def _dist_from_json(raw: dict[str, Any]) -> FrozenDist:
    return FrozenDist(
        name=str(raw["name"]),
        raw_name=str(raw["raw_name"]),
        version=str(raw["version"]),
        lines=tuple(str(line) for line in raw["lines"]),
        editable=bool(raw.get("editable", False)),
        url=None if raw.get("url") is None else str(raw["url"]),
    )


def _wanted_from_json(raw: dict[str, Any]) -> Wanted:
    return Wanted(
        key=str(raw["key"]),
        name=None if raw["name"] is None else str(raw["name"]),
        args=tuple(str(a) for a in raw["args"]),
        specifier=str(raw["specifier"]),
        marker=None if raw["marker"] is None else str(raw["marker"]),
        url=None if raw["url"] is None else str(raw["url"]),
        editable=bool(raw["editable"]),
        extras=tuple(str(e) for e in raw["extras"]),
    )


def snapshot_to_bytes(project: Path, snapshot: Snapshot) -> bytes:
    document = {
        "format": SNAPSHOT_FORMAT,
        "project": str(project),
        "time": snapshot.time,
        "venv_id": snapshot.venv_id,
        "files": snapshot.files,
        "wanted": [
            {**w._asdict(), "args": list(w.args), "extras": list(w.extras)} for w in snapshot.wanted
        ],
        "installed": [_dist_to_json(dist) for dist in snapshot.installed],
    }
    # Compact: with `indent`, json encodes in Python, 20x slower (25 ms at 267 dists).
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def snapshot_from_bytes(data: bytes) -> Snapshot:
    try:
        document = json.loads(data.decode("utf-8"))
        if document.get("format") != SNAPSHOT_FORMAT:
            raise StateProblem(f"unknown snapshot format {document.get('format')!r}")
        return Snapshot(
            files={str(k): str(v) for k, v in document["files"].items()},
            wanted=tuple(_wanted_from_json(raw) for raw in document["wanted"]),
            installed=tuple(_dist_from_json(raw) for raw in document["installed"]),
            time=str(document["time"]),
            venv_id=str(document.get("venv_id", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise StateProblem(f"corrupt snapshot ({exc.__class__.__name__}: {exc})") from exc


def load_snapshot(folder: Path, name: str = SNAPSHOT) -> Snapshot | None:
    """The stored snapshot, None when there is none; `StateProblem` when it is unusable."""
    path = folder / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateProblem(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        return snapshot_from_bytes(data)
    except StateProblem as exc:
        raise StateProblem(f"{path}: {exc}") from exc


def save_snapshot(folder: Path, project: Path, snapshot: Snapshot, name: str = SNAPSHOT) -> None:
    private_folder(folder)
    atomic_write(folder / name, snapshot_to_bytes(project, snapshot), mode=PRIVATE_FILE)
    if name == SNAPSHOT:
        (folder / PENDING).unlink(missing_ok=True)


def promote_pending(folder: Path) -> None:
    """Make the pending snapshot (written and synced by `save_snapshot`) the snapshot."""
    replace(str(folder / PENDING), folder / SNAPSHOT)


def settle_pending(folder: Path, texts: dict[str, str] | None, dry: bool) -> Snapshot | None:
    """The pending snapshot if the requirements files now hold what it was saved for (the
    announced rewrite happened), made the snapshot unless `dry`; else None, and a pending
    snapshot whose rewrite never happened is dropped (unless `dry`). `texts`: the files now."""
    try:
        pending = load_snapshot(folder, PENDING)
    except StateProblem:
        pending = None
    if (
        pending is None
        or texts is None
        or any(texts.get(path) != text for path, text in pending.files.items())
    ):
        if not dry:
            (folder / PENDING).unlink(missing_ok=True)
        return None
    if not dry:
        os.replace(folder / PENDING, folder / SNAPSHOT)
    return pending


def venv_identity(root: Path) -> str:
    """Tells one venv from another made in its place (`rm -rf .venv; python -m venv .venv`)."""
    try:
        info = (root / "pyvenv.cfg").stat()
    except OSError:
        return ""
    return f"{info.st_ino}:{info.st_mtime_ns}"

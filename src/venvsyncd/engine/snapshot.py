"""Per-project state on disk: the snapshot of the last agreement between file and env.

Layout: `<state dir>/projects/<folder name>-<hash of its path>/snapshot.json`, folders 0700 and
files 0600, the user's alone (`private_folder`: one that is not is refused). The format is
versioned; a snapshot that is unreadable, corrupt or of an unknown format is reported (as a
`StateProblem` the caller logs) and treated as absent, so it is rebuilt by the next sync.

A rewrite of the requirements file and the snapshot after it are two writes: a kill between
them would leave a snapshot that takes venvsyncd's own write for a user's edit. So the
snapshot the rewrite makes true is written first, as `snapshot.next.json`; if the file holds
what it expected, the write happened and that snapshot is the one (`settle_pending`).

The daemon reads a project's snapshot at every change. The snapshots this process wrote or
read last are kept decoded, each with its file's identity (inode, size, mtime, ctime): a
snapshot file is only written by venvsyncd, under the project's lock, and only replaced whole
(`atomic_write`, renames), so while the identity is the same the content is. A snapshot read
from a file changed within RACY_NS of the read is not kept (a change in the same clock tick
would not show).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from venvsyncd.env.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.requirements.wanted import Wanted
from venvsyncd.system import insync
from venvsyncd.system.files import atomic_write, replace
from venvsyncd.system.private import PRIVATE_FILE, NotPrivate, private_dir, private_dir_exists

SNAPSHOT_FORMAT = 1
SNAPSHOT = "snapshot.json"
PENDING = "snapshot.next.json"
RACY_NS = 50_000_000  # a file changed this recently may change again in the same tick
KNOWN_LIMIT = 16  # snapshots kept decoded (the projects acted on last)
_Item = TypeVar("_Item", Wanted, FrozenDist)
FileKey = tuple[int, int, int, int]  # st_ino, st_size, st_mtime_ns, st_ctime_ns


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


def _wanted_to_json(wanted: Wanted) -> dict[str, Any]:
    return {**wanted._asdict(), "args": list(wanted.args), "extras": list(wanted.extras)}


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
    """One JSON document (compact: with `indent`, json encodes in Python, 20x slower). Its
    lines and dists are encoded once each and kept: most are the same at the next write."""
    head = {
        "format": SNAPSHOT_FORMAT,
        "project": str(project),
        "time": snapshot.time,
        "venv_id": snapshot.venv_id,
        "files": snapshot.files,
    }
    wanted = ",".join(_encoded(w, _wanted_to_json) for w in snapshot.wanted)
    installed = ",".join(_encoded(d, _dist_to_json) for d in snapshot.installed)
    text = f'{_dumps(head)[:-1]},"wanted":[{wanted}],"installed":[{installed}]}}\n'
    return text.encode("utf-8")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_ENCODED_LIMIT = 20_000
_encoded_items: dict[Wanted | FrozenDist, str] = {}


def _encoded(item: _Item, as_json: Callable[[_Item], dict[str, Any]]) -> str:
    found = _encoded_items.get(item)
    if found is None:
        found = _dumps(as_json(item))
        if len(_encoded_items) >= _ENCODED_LIMIT:
            _encoded_items.clear()
        _encoded_items[item] = found
    return found


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
        with path.open("rb") as file:
            key = _key(os.fstat(file.fileno()))
            known = _recall(str(path), key)
            if known is not None:
                return known
            data = file.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateProblem(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        snapshot = snapshot_from_bytes(data)
    except StateProblem as exc:
        raise StateProblem(f"{path}: {exc}") from exc
    racy = max(key[2], key[3]) >= time.time_ns() - RACY_NS
    _keep(str(path), None if racy else snapshot, key)
    return snapshot


def save_snapshot(folder: Path, project: Path, snapshot: Snapshot, name: str = SNAPSHOT) -> None:
    private_folder(folder)
    path = folder / name
    atomic_write(path, snapshot_to_bytes(project, snapshot), mode=PRIVATE_FILE)
    _keep(str(path), snapshot, _stat_key(path))
    if name == SNAPSHOT:
        (folder / PENDING).unlink(missing_ok=True)


def promote_pending(folder: Path) -> None:
    """Make the pending snapshot (written and synced by `save_snapshot`) the snapshot."""
    replace(str(folder / PENDING), folder / SNAPSHOT)
    _moved(folder / PENDING, folder / SNAPSHOT)


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
        _moved(folder / PENDING, folder / SNAPSHOT)
    return pending


# ---- snapshots kept decoded, by path ---------------------------------------------------------
_known: dict[str, tuple[FileKey, Snapshot]] = {}
_known_lock = threading.Lock()


def _key(st: os.stat_result) -> FileKey:
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _stat_key(path: Path) -> FileKey | None:
    try:
        return _key(path.stat())
    except OSError:
        return None


def _recall(path: str, key: FileKey) -> Snapshot | None:
    """The snapshot kept for `path` if the file is still the one it was kept for."""
    with _known_lock:
        kept = _known.get(path)
    return kept[1] if kept is not None and kept[0] == key else None


def _keep(path: str, snapshot: Snapshot | None, key: FileKey | None) -> None:
    with _known_lock:
        _known.pop(path, None)
        if snapshot is None or key is None:
            return
        while len(_known) >= KNOWN_LIMIT:
            del _known[next(iter(_known))]  # the oldest
        _known[path] = (key, snapshot)


def _moved(source: Path, target: Path) -> None:
    """`source` was renamed to `target` (a rename changes the ctime): its snapshot goes along."""
    with _known_lock:
        kept = _known.pop(str(source), None)
    _keep(str(target), None if kept is None else kept[1], _stat_key(target))


def venv_identity(root: Path) -> str:
    """Tells one venv from another made in its place (`rm -rf .venv; python -m venv .venv`)."""
    try:
        info = (root / "pyvenv.cfg").stat()
    except OSError:
        return ""
    return f"{info.st_ino}:{info.st_mtime_ns}"
